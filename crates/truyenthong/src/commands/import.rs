//! `hoat-dong nhap <TỆP.csv>`: many activities from a CSV file.
//!
//! The file is read and every row checked before anything is sent: a file that is not UTF-8,
//! an unknown or missing column stops the import with nothing recorded; a bad row is set
//! aside and reported by its line number. The good rows are then sent one by one, in file
//! order, with a progress line on stderr.
//!
//! Each row gets an activity id derived from the school and the row's cells (a UUIDv7 whose
//! time is the activity's date and whose other bits are a SHA-1 of the cells), so running the
//! same import again — after the link dropped half-way, or after fixing the refused rows —
//! records only what is not yet recorded: the agent answers `ALREADY_EXISTS` for the rest.
//! Identical rows are told apart by their occurrence number. A `ma` column overrides the id.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tonic::Code;
use uuid::Uuid;
use wire::pb;

use super::Ctx;
use super::activity::{Source, build};
use crate::args::ActivityFields;
use crate::client;
use crate::error::{CliError, agent_message, is_connection_failure, is_transient};
use crate::output::{Output, Sent};
use crate::plan_file;
use crate::values;

/// The columns of an import file: canonical name (the option without `--`) and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Date,
    Area,
    Topic,
    Channel,
    Title,
    Summary,
    Audience,
    Reach,
    Partner,
    Evidence,
    Responsible,
    Id,
}

const COLUMNS: &[(Column, &str, &[&str])] = &[
    (Column::Date, "ngay", &["date"]),
    (Column::Area, "noi-dung", &["area"]),
    (Column::Topic, "chu-de", &["topic"]),
    (Column::Channel, "kenh", &["channel"]),
    (Column::Title, "tieu-de", &["title"]),
    (Column::Summary, "tom-tat", &["summary"]),
    (Column::Audience, "doi-tuong", &["audience"]),
    (Column::Reach, "so-nguoi", &["reach"]),
    (Column::Partner, "doi-tac", &["partner"]),
    (
        Column::Evidence,
        "minh-chung",
        &["evidence", "evidence-url"],
    ),
    (Column::Responsible, "phu-trach", &["responsible"]),
    (Column::Id, "ma", &["id", "activity-id"]),
];

const REQUIRED: &[Column] = &[
    Column::Date,
    Column::Area,
    Column::Channel,
    Column::Title,
    Column::Summary,
];

/// Namespace of the SHA-1 that derives row ids; changing it would re-record every old file.
const ROW_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_43a0_2f7e_4c55_9d1e_7a33_5e1c_b0a1);

fn name(column: Column) -> &'static str {
    COLUMNS
        .iter()
        .find(|(c, _, _)| *c == column)
        .map_or("?", |(_, n, _)| n)
}

fn column_of(header: &str) -> Option<Column> {
    let h = header
        .trim()
        .trim_start_matches('-')
        .to_lowercase()
        .replace('_', "-");
    COLUMNS
        .iter()
        .find(|(_, n, aliases)| *n == h || aliases.contains(&h.as_str()))
        .map(|(c, _, _)| *c)
}

/// A data row, checked.
#[derive(Debug)]
struct Row {
    /// The line of the file the row starts on (the header is line 1).
    line: u64,
    /// The row's cells by column, for the derived id.
    cells: Vec<String>,
    outcome: Result<Checked, String>,
}

#[derive(Debug)]
struct Checked {
    activity: pb::Activity,
    /// From the `ma` column.
    id: Option<String>,
}

/// The delimiter of the header line: `,` unless `;` or tab is more frequent (Excel in a
/// Vietnamese locale saves CSV with `;`).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [(b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .filter(|(_, n)| *n > count(','))
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| d)
}

/// Reads and checks the whole file. Errors that concern the file as a whole stop here.
fn read_rows(path: &Path, text: &str, role: domain::Role) -> Result<Vec<Row>, CliError> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CliError::File(format!("Tệp «{shown}»: không đọc được dòng tiêu đề ({e}).")))?
        .clone();
    let mut columns = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let column = column_of(h).ok_or_else(|| {
            let names: Vec<&str> = COLUMNS.iter().map(|(_, n, _)| *n).collect();
            CliError::File(format!(
                "Tệp «{shown}»: cột «{h}» (cột thứ {} của dòng tiêu đề) không phải tên cột hợp lệ. Các tên cột: {}.",
                i + 1,
                names.join(", ")
            ))
        })?;
        if columns.contains(&column) {
            return Err(CliError::File(format!(
                "Tệp «{shown}»: cột «{}» có hai lần trong dòng tiêu đề.",
                name(column)
            )));
        }
        columns.push(column);
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|c| !columns.contains(c))
        .map(|c| name(*c))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::File(format!(
            "Tệp «{shown}»: thiếu cột bắt buộc {}. Dòng đầu của tệp phải là tên các cột, ví dụ: ngay,noi-dung,chu-de,kenh,tieu-de,tom-tat",
            missing.join(", ")
        )));
    }

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                rows.push(Row {
                    line,
                    cells: Vec::new(),
                    outcome: Err(format!("dòng không đọc được ({e})")),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let cells: Vec<String> = COLUMNS
            .iter()
            .filter(|(c, _, _)| *c != Column::Id)
            .map(|(c, _, _)| {
                columns
                    .iter()
                    .position(|x| x == c)
                    .and_then(|i| record.get(i))
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        let outcome = if record.len() != columns.len() {
            Err(format!(
                "dòng có {} cột trong khi dòng tiêu đề có {} cột (thiếu hoặc thừa dấu phân cách?)",
                record.len(),
                columns.len()
            ))
        } else {
            check_row(&columns, &record, role)
        };
        rows.push(Row {
            line,
            cells,
            outcome,
        });
    }
    if rows.is_empty() {
        return Err(CliError::File(format!(
            "Tệp «{shown}» không có dòng hoạt động nào (chỉ có dòng tiêu đề)."
        )));
    }
    Ok(rows)
}

fn check_row(
    columns: &[Column],
    record: &csv::StringRecord,
    role: domain::Role,
) -> Result<Checked, String> {
    let mut fields = ActivityFields::default();
    let mut id = None;
    for (column, value) in columns.iter().zip(record.iter()) {
        let place = format!("cột «{}»", name(*column));
        let value = value.trim();
        let some = || Some(value.to_string());
        match column {
            Column::Date => fields.date = some(),
            Column::Area => {
                fields.area = if value.is_empty() {
                    None
                } else {
                    Some(values::area_arg(value).map_err(|m| {
                        CliError::input(capitalise(&m), "activity.area", &place).vietnamese()
                    })?)
                }
            }
            Column::Topic => fields.topic = some(),
            Column::Channel => fields.channel = (!value.is_empty()).then(some).flatten(),
            Column::Title => fields.title = some(),
            Column::Summary => fields.summary = some(),
            Column::Audience => fields.audience = some(),
            Column::Reach => {
                fields.reach = if value.is_empty() {
                    None
                } else {
                    Some(values::u32_arg(value).map_err(|m| {
                        CliError::input(format!("Số người {m}"), "activity.reach", &place)
                            .vietnamese()
                    })?)
                }
            }
            Column::Partner => fields.partner = some(),
            Column::Evidence => fields.evidence = some(),
            Column::Responsible => fields.responsible = (!value.is_empty()).then(some).flatten(),
            Column::Id => {
                if !value.is_empty() {
                    id = Some(
                        values::id(value)
                            .map_err(|m| {
                                CliError::input(m, "activity.activity_id", &place).vietnamese()
                            })?
                            .to_string(),
                    );
                }
            }
        }
    }
    let activity =
        build(&fields, None, role, Source::Csv, "activity", false).map_err(|e| e.vietnamese())?;
    Ok(Checked { activity, id })
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The row's id: a UUIDv7 with the activity's date as its time and a SHA-1 of the school and
/// the row's cells (and its occurrence among identical rows) as its other bits.
fn row_id(school: &str, cells: &[String], occurrence: u32, date: &str) -> String {
    let mut key = school.to_string();
    for cell in cells {
        key.push('\u{1f}');
        key.push_str(cell);
    }
    key.push('\u{1f}');
    key.push_str(&occurrence.to_string());
    let hash = Uuid::new_v5(&ROW_NAMESPACE, key.as_bytes());
    let b = hash.as_bytes();
    // Bytes 6 and 8 carry v5's version and variant bits; the others are all hash.
    let random = [
        b[0], b[1], b[2], b[3], b[4], b[5], b[9], b[10], b[11], b[12],
    ];
    let millis = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| domain::calendar::start_of_local_day(d).timestamp_millis())
        .unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(millis).unwrap_or(0), &random)
        .into_uuid()
        .to_string()
}

/// Progress on stderr: a bar on a terminal, a line now and then otherwise (logs, pipes).
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    last_line: Instant,
    out: Output,
}

impl Progress {
    fn new(total: usize, out: Output) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "Đang ghi {bar:30.cyan/blue} {pos}/{len} hoạt động ({elapsed}, còn khoảng {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            total,
            done: 0,
            last_line: Instant::now(),
            out,
        }
    }

    fn step(&mut self) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                if self.done == self.total
                    || self.done.is_multiple_of(100)
                    || self.last_line.elapsed() >= Duration::from_secs(2)
                {
                    self.out
                        .note(format!("Đã gửi {}/{} hoạt động…", self.done, self.total));
                    self.last_line = Instant::now();
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What happened to the rows.
#[derive(Debug, Default)]
struct Summary {
    rows: usize,
    recorded: usize,
    already: usize,
    refused: Vec<(u64, String, Option<String>)>,
    /// Rows not sent because the agent could not be reached any more.
    unsent: usize,
}

pub async fn run(ctx: &Ctx, path: &Path) -> Result<(), CliError> {
    let header = ctx.header()?;
    let role = ctx.role()?;
    let bytes = std::fs::read(path).map_err(|e| CliError::File(plan_file::io_message(path, &e)))?;
    let text = plan_file::decode(&bytes)
        .map_err(|m| CliError::File(format!("Tệp «{}» {m}", path.display())))?;
    let rows = read_rows(path, &text, role)?;

    let mut summary = Summary {
        rows: rows.len(),
        ..Default::default()
    };
    let mut agent = ctx.client().await?;
    let status = agent
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    let school = format!("{}/{}/{}", status.province, status.district, status.school);

    let good = rows.iter().filter(|r| r.outcome.is_ok()).count();
    let mut progress = Progress::new(good, ctx.out);
    let mut seen: HashMap<&[String], u32> = HashMap::new();
    let mut lost = None;
    for row in &rows {
        let checked = match &row.outcome {
            Ok(c) => c,
            Err(message) => {
                summary.refused.push((row.line, message.clone(), None));
                continue;
            }
        };
        if lost.is_some() {
            summary.unsent += 1;
            continue;
        }
        let occurrence = seen.entry(row.cells.as_slice()).or_insert(0);
        *occurrence += 1;
        let id = checked
            .id
            .clone()
            .unwrap_or_else(|| row_id(&school, &row.cells, *occurrence, &checked.activity.date));
        let request = pb::RecordActivityRequest {
            header: Some(header.clone()),
            activity_id: id.clone(),
            activity: Some(checked.activity.clone()),
        };
        let result = client::send(&id, || {
            let mut agent = agent.clone();
            let request = request.clone();
            async move { agent.record_activity(request).await }
        })
        .await;
        match result {
            Ok(Sent::Reply(_) | Sent::AlreadyRecorded { .. }) => summary.recorded += 1,
            Err(s) if s.code() == Code::AlreadyExists => summary.already += 1,
            Err(s) if is_connection_failure(&s) || is_transient(&s) => {
                lost = Some(s);
                summary.unsent += 1;
                continue;
            }
            Err(s) => {
                let field = wire::status::violated_field(&s);
                // A refusal that concerns every row (no plan, wrong school, bad recorder) stops
                // the import instead of repeating itself for each row.
                if field.as_deref().is_some_and(|f| {
                    f == "plan" || f.starts_with("header") || f.starts_with("actor")
                }) {
                    progress.finish();
                    return Err(ctx.refused(s));
                }
                summary
                    .refused
                    .push((row.line, agent_message(&s, &ctx.url), field));
            }
        }
        progress.step();
    }
    progress.finish();
    summary.refused.sort_by_key(|(line, _, _)| *line);
    report(ctx, path, &summary);

    if lost.is_some() {
        return Err(CliError::Reported(format!(
            "Mất kết nối với máy chủ của trường tại {} sau khi đã ghi {} hoạt động; còn {} dòng chưa gửi. Kiểm tra school-agent rồi chạy lại đúng lệnh này: những dòng đã ghi sẽ không bị ghi lặp.",
            ctx.url, summary.recorded, summary.unsent
        )));
    }
    if !summary.refused.is_empty() {
        return Err(CliError::Reported(format!(
            "Có {} dòng bị từ chối. Sửa các dòng đó trong tệp rồi chạy lại đúng lệnh này: những dòng đã ghi sẽ không bị ghi lặp.",
            summary.refused.len()
        )));
    }
    Ok(())
}

fn report(ctx: &Ctx, path: &Path, s: &Summary) {
    if ctx.out.json {
        ctx.out.json(&json!({
            "file": path.display().to_string(),
            "rows": s.rows,
            "recorded": s.recorded,
            "already_recorded": s.already,
            "unsent": s.unsent,
            "refused": s.refused.iter().map(|(line, message, field)| json!({
                "line": line,
                "field": field,
                "message_vi": message,
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    let mut out = format!(
        "Tệp «{}»: {} dòng hoạt động.\n  Đã ghi mới: {}\n  Đã có từ trước (không ghi lặp): {}\n",
        path.display(),
        s.rows,
        s.recorded,
        s.already
    );
    if s.unsent > 0 {
        out.push_str(&format!("  Chưa gửi được: {}\n", s.unsent));
    }
    if s.refused.is_empty() {
        out.push_str("  Bị từ chối: 0");
    } else {
        out.push_str(&format!("  Bị từ chối: {} dòng:", s.refused.len()));
        for (line, message, _) in &s.refused {
            out.push_str(&format!("\n    Dòng {line}: {message}"));
        }
    }
    ctx.out.text(out);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEADER: &str = "ngay,noi-dung,chu-de,kenh,tieu-de,tom-tat\n";

    #[test]
    fn rows_are_checked_and_numbered_by_line() {
        let text = format!(
            "{HEADER}2018-03-15,3,huong-nghiep,dai-truyen-thanh,Tin 1,Tóm tắt\n\
             2018-02-30,3,huong-nghiep,dai-truyen-thanh,Tin 2,Tóm tắt\n\
             2018-03-16,3,huong-nghiep,bo-cau,Tin 3,Tóm tắt\n\
             2018-03-17,3,huong-nghiep,facebook,Tin 4\n"
        );
        let rows = read_rows(Path::new("x.csv"), &text, domain::Role::VicePrincipal).unwrap();
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(rows[0].outcome.is_ok());
        let err = rows[1].outcome.as_ref().unwrap_err();
        assert!(
            err.contains("cột «ngay»") && err.contains("activity.date"),
            "{err}"
        );
        assert!(
            rows[2]
                .outcome
                .as_ref()
                .unwrap_err()
                .contains("Mã kênh «bo-cau»")
        );
        assert!(
            rows[3]
                .outcome
                .as_ref()
                .unwrap_err()
                .contains("dòng có 5 cột")
        );
    }

    #[test]
    fn header_problems_stop_the_import() {
        let err = read_rows(
            Path::new("x.csv"),
            "ngay,tieu-de\n2018-01-01,a\n",
            domain::Role::Principal,
        )
        .unwrap_err()
        .vietnamese();
        assert!(
            err.contains("thiếu cột bắt buộc noi-dung, kenh, tom-tat"),
            "{err}"
        );
        let err = read_rows(
            Path::new("x.csv"),
            "ngay,mau-sac\n",
            domain::Role::Principal,
        )
        .unwrap_err()
        .vietnamese();
        assert!(err.contains("cột «mau-sac»"), "{err}");
    }

    #[test]
    fn semicolons_and_english_headers_are_accepted() {
        let text = "date;area;topic;channel;title;summary\n15/03/2018;3;huong-nghiep;facebook;Tin, bài;Tóm tắt\n";
        let rows = read_rows(Path::new("x.csv"), text, domain::Role::Principal).unwrap();
        let a = &rows[0].outcome.as_ref().unwrap().activity;
        assert_eq!(a.title, "Tin, bài");
        assert_eq!(a.date, "2018-03-15");
    }

    #[test]
    fn row_ids_are_stable_v7_and_distinct() {
        let cells = vec!["2018-03-15".to_string(), "Tin 1".to_string()];
        let a = row_id("dt/tn/thcs", &cells, 1, "2018-03-15");
        assert_eq!(a, row_id("dt/tn/thcs", &cells, 1, "2018-03-15"));
        assert_ne!(a, row_id("dt/tn/thcs", &cells, 2, "2018-03-15"));
        assert_ne!(a, row_id("dt/tn/khac", &cells, 1, "2018-03-15"));
        let id = Uuid::parse_str(&a).unwrap();
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 1_521_046_800); // 2018-03-15 00:00 +07:00
    }
}
