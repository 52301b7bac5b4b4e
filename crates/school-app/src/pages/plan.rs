//! `/ke-hoach`: the school's plan. Before one is adopted, the person whose duty it is uploads
//! the plan the school already wrote (.docx or .txt); `plan_reader` proposes the structured
//! plan, the review form shows it — with what could not be read said as such beside its
//! field, never guessed — and adopting sends what the person confirmed.
//!
//! The review form writes the plan's lists one entry per line, the parts separated by `|`:
//! legal bases `số | ngày | cơ quan | trích yếu`, areas `số | tên lĩnh vực`, topics
//! `số lĩnh vực | mã | tên chủ đề`, duties `vai trò | nhiệm vụ`.

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::duties::Duty;
use domain::{ContentArea, Role};
use maud::{Markup, html};
use plan_reader::Reading;
use wire::pb;

use crate::AppState;
use crate::error::PageError;
use crate::forms::{Refusal, Values, text};
use crate::layout::{self, Nav};
use crate::pages::activities::load;
use crate::session::Staff;

/// The review form's fields: (name, label, several lines?).
const FIELDS: [(&str, &str, bool); 14] = [
    ("number", "Số, ký hiệu", false),
    ("issuer", "Cơ quan ban hành", false),
    ("parent_agency", "Cơ quan chủ quản", false),
    ("place", "Địa danh", false),
    ("date", "Ngày ban hành (ngày/tháng/năm)", false),
    ("title", "Trích yếu", false),
    ("period_start", "Thực hiện từ ngày", false),
    ("period_end", "Đến ngày", false),
    (
        "legal_bases",
        "Căn cứ, mỗi dòng «số | ngày | cơ quan | trích yếu»",
        true,
    ),
    ("purposes", "Mục đích", true),
    ("requirements", "Yêu cầu", true),
    (
        "areas",
        "Lĩnh vực nội dung, mỗi dòng «số | tên lĩnh vực»",
        true,
    ),
    (
        "topics",
        "Chủ đề, mỗi dòng «số lĩnh vực | mã | tên chủ đề»",
        true,
    ),
    ("duties", "Nhiệm vụ, mỗi dòng «vai trò | nhiệm vụ»", true),
];

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The proposal as the review form's values.
fn values_of(reading: &Reading) -> Values {
    let p = &reading.proposal;
    let mut v = Values::new();
    let mut put = |k: &str, s: String| {
        v.insert(k.to_owned(), s);
    };
    put("number", p.number.clone().unwrap_or_default());
    put("issuer", p.issuer.clone().unwrap_or_default());
    put("parent_agency", p.parent_agency.clone().unwrap_or_default());
    put("place", p.place.clone().unwrap_or_default());
    put("date", p.date.map(dmy).unwrap_or_default());
    put("title", p.title.clone().unwrap_or_default());
    put("period_start", p.period.start.map(dmy).unwrap_or_default());
    put("period_end", p.period.end.map(dmy).unwrap_or_default());
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    put(
        "legal_bases",
        p.legal_bases
            .iter()
            .map(|b| {
                format!(
                    "{} | {} | {} | {}",
                    opt(&b.number),
                    b.date.map(dmy).unwrap_or_default(),
                    opt(&b.issuer),
                    opt(&b.title)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    put("purposes", opt(&p.purposes));
    put("requirements", opt(&p.requirements));
    let known = p
        .content_areas
        .iter()
        .filter_map(|a| a.area.map(|area| (area, a)));
    put(
        "areas",
        known
            .clone()
            .map(|(area, a)| format!("{} | {}", area.number(), a.title))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    put(
        "topics",
        known
            .flat_map(|(area, a)| {
                a.topics
                    .iter()
                    .map(move |t| format!("{} | {} | {}", area.number(), t.code, t.title))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    put(
        "duties",
        p.duties
            .iter()
            .flat_map(|d| {
                let role = d
                    .role
                    .map_or_else(|| format!("? {}", d.heading), |r| r.label_vi().to_owned());
                d.duties.iter().map(move |duty| format!("{role} | {duty}"))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    v
}

/// The review form's field a path names: `legal_bases[2].date` → `legal_bases`,
/// `content_areas[1].topics[0].code` → `topics`, `plan.period` → `period_start`.
fn field_of(path: &str) -> &'static str {
    let path = path.strip_prefix("plan.").unwrap_or(path);
    let first = path.split(['.', '[']).next().unwrap_or("");
    if path.contains("topics") {
        return "topics";
    }
    match first {
        "content_areas" => "areas",
        "period" => "period_start",
        other => FIELDS
            .iter()
            .map(|(n, _, _)| *n)
            .find(|n| *n == other)
            .unwrap_or(""),
    }
}

fn review(staff: &Staff, values: &Values, problems: &[Refusal], notes: &[String]) -> Markup {
    let general: Vec<&Refusal> = problems.iter().filter(|p| p.field.is_empty()).collect();
    html! {
        section.card {
            h1 { "Xem lại kế hoạch trước khi ban hành" }
            p.muted { "Máy đã đọc văn bản của trường. Hãy xem lại từng mục, sửa chỗ chưa đúng rồi bấm «Ban hành kế hoạch». Chỗ máy không đọc được được ghi rõ bên dưới mục đó." }
            @for p in &general { p.notice.error { (p.message) } }
            @if !notes.is_empty() {
                details open {
                    summary { "Những chỗ máy tự điền, cần kiểm tra (" (notes.len()) ")" }
                    ul { @for n in notes { li { (n) } } }
                }
            }
            form.record method="post" action="/ke-hoach/ban-hanh" novalidate {
                input type="hidden" name="csrf" value=(staff.csrf());
                @for (name, label, long) in FIELDS {
                    @let mine: Vec<&Refusal> = problems.iter().filter(|p| p.field == name).collect();
                    @let value = values.get(name).map(String::as_str).unwrap_or("");
                    div class=@if !mine.is_empty() { "has-error" } {
                        label for=(name) { (label) }
                        @if long { textarea id=(name) name=(name) rows="6" { (value) } }
                        @else { input id=(name) name=(name) type="text" value=(value); }
                        @for p in &mine { p.field-error data-field=(name) { (p.message) } }
                    }
                }
                button.primary type="submit" id="ban-hanh" { "Ban hành kế hoạch" }
            }
        }
    }
}

fn upload_form(staff: &Staff, refusal: Option<&str>) -> Markup {
    html! {
        section.card {
            h1 { "Ban hành kế hoạch từ văn bản của trường" }
            p { "Chọn tệp kế hoạch truyền thông của trường (Word .docx hoặc văn bản .txt). Máy đọc số, ngày, căn cứ, các lĩnh vực và nhiệm vụ, rồi cho thầy/cô xem lại trước khi ban hành." }
            @if let Some(r) = refusal { p.notice.error id="loi-tep" { (r) } }
            form.record method="post" action="/ke-hoach/doc" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(staff.csrf());
                label for="tep" { "Tệp kế hoạch" }
                input id="tep" name="tep" type="file" accept=".docx,.txt";
                button.primary type="submit" id="doc" { "Đọc văn bản" }
            }
        }
    }
}

fn respond(state: &AppState, staff: &Staff, body: Markup, code: StatusCode) -> Response {
    let page = layout::page(&state.school_name, "Kế hoạch", Nav::Plan, staff, None, body);
    (code, Html(page.into_string())).into_response()
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let body = match &log.plan {
        Some(plan) => html! {
            section.card {
                h1 { "Kế hoạch số " (plan.number) }
                p { (plan.title) }
                p.muted { (plan.issuer) ", " (plan.place) ", ngày " (domain::vi::date(plan.date)) ". Thực hiện " (domain::vi::date(plan.period.start())) " – " (domain::vi::date(plan.period.end())) "." }
                h2 { "Lĩnh vực và chủ đề" }
                ul { @for a in &plan.content_areas { li data-area=(a.area.number()) { (a.area.number()) ". " (if a.title.is_empty() { a.area.label_vi() } else { a.title.as_str() }) " (" (a.topics.len()) " chủ đề)" } } }
                h2 { "Nhiệm vụ" }
                ul { @for d in &plan.duties { li { strong { (d.role.label_vi()) } ": " (d.duties.len()) " nhiệm vụ" } } }
                @if Duty::Plan.allows(staff.role()) { p { a.button href="/ghi/bo-sung-ke-hoach" { "Bổ sung kế hoạch" } } }
            }
        },
        None if Duty::Plan.allows(staff.role()) => upload_form(&staff, None),
        None => {
            html! { section.card { h1 { "Kế hoạch" } p { "Trường chưa ban hành kế hoạch. Hiệu trưởng hoặc Phó Hiệu trưởng ban hành kế hoạch." } } }
        }
    };
    Ok(respond(&state, &staff, body, StatusCode::OK))
}

fn check_duty(staff: &Staff) -> Result<(), PageError> {
    if Duty::Plan.allows(staff.role()) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "Ban hành kế hoạch thuộc nhiệm vụ «{}» của Hiệu trưởng và Phó Hiệu trưởng.",
            Duty::Plan.label_vi()
        )))
    }
}

/// The uploaded document, read into the review form.
pub async fn read(
    State(state): State<AppState>,
    staff: Staff,
    mut upload: Multipart,
) -> Result<Response, PageError> {
    check_duty(&staff)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = upload.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("tep") => {
                let name = field.file_name().unwrap_or("").to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => {
                        let message = format!(
                            "Tệp quá lớn hoặc bị ngắt giữa chừng (tối đa {} MB).",
                            plan_reader::MAX_UPLOAD / 1_000_000
                        );
                        return Ok(respond(
                            &state,
                            &staff,
                            upload_form(&staff, Some(&message)),
                            StatusCode::BAD_REQUEST,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    staff.check_csrf(&state, &csrf)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(respond(
            &state,
            &staff,
            upload_form(&staff, Some("Chưa chọn tệp kế hoạch.")),
            StatusCode::BAD_REQUEST,
        ));
    };
    let reading = match plan_reader::read_upload(&name, &bytes) {
        Ok(reading) => reading,
        Err(e) => {
            return Ok(respond(
                &state,
                &staff,
                upload_form(&staff, Some(&e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let problems: Vec<Refusal> = reading
        .unread
        .iter()
        .map(|u| {
            Refusal::at(
                field_of(&u.field),
                match &u.found {
                    Some(found) => format!("{} (trong văn bản: «{found}»)", u.message),
                    None => u.message.clone(),
                },
            )
        })
        .collect();
    let notes: Vec<String> = reading.notes.iter().map(|n| n.message.clone()).collect();
    tracing::info!(file = %name, bytes = bytes.len(), unread = problems.len(), notes = notes.len(), "plan document read");
    Ok(respond(
        &state,
        &staff,
        review(&staff, &values_of(&reading), &problems, &notes),
        StatusCode::OK,
    ))
}

/// `dd/mm/yyyy` or `YYYY-MM-DD` as the wire's `YYYY-MM-DD`; anything else as typed (the
/// domain refuses it against its field).
fn iso(typed: &str) -> String {
    let typed = typed.trim();
    NaiveDate::parse_from_str(typed, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(typed, "%Y-%m-%d"))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| typed.to_owned())
}

fn lines(values: &Values, name: &str) -> Vec<Vec<String>> {
    text(values, name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(|p| p.trim().to_owned()).collect())
        .collect()
}

/// The role a duty line names: its label (`Phó Hiệu trưởng`) or code (`vice_principal`).
fn role_named(typed: &str) -> Option<Role> {
    let folded = domain::district::folding::fold_vietnamese(typed);
    Role::ALL
        .iter()
        .copied()
        .filter(|r| *r != Role::DistrictOffice)
        .find(|r| {
            r.code() == typed || domain::district::folding::fold_vietnamese(r.label_vi()) == folded
        })
}

/// The confirmed review form as the wire's plan; a line that cannot be read is refused
/// against its field.
fn plan_of(values: &Values) -> Result<pb::Plan, Refusal> {
    let legal_bases = lines(values, "legal_bases")
        .into_iter()
        .enumerate()
        .map(|(i, parts)| match parts.as_slice() {
            [number, date, issuer, title] => Ok(pb::LegalBasis {
                number: number.clone(),
                date: iso(date),
                issuer: issuer.clone(),
                title: title.clone(),
            }),
            _ => Err(Refusal::at(
                "legal_bases",
                format!("Dòng {}: cần ghi «số | ngày | cơ quan | trích yếu».", i + 1),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut areas: Vec<pb::AreaPlan> = Vec::new();
    for (i, parts) in lines(values, "areas").into_iter().enumerate() {
        let [number, title] = parts.as_slice() else {
            return Err(Refusal::at(
                "areas",
                format!("Dòng {}: cần ghi «số | tên lĩnh vực».", i + 1),
            ));
        };
        let area = number
            .parse::<u32>()
            .ok()
            .filter(|n| ContentArea::from_number("area", i64::from(*n)).is_ok())
            .ok_or_else(|| {
                Refusal::at(
                    "areas",
                    format!("Dòng {}: «{number}» không phải số lĩnh vực 1–6.", i + 1),
                )
            })?;
        areas.push(pb::AreaPlan {
            area,
            title: title.clone(),
            topics: Vec::new(),
        });
    }
    for (i, parts) in lines(values, "topics").into_iter().enumerate() {
        let [number, code, title] = parts.as_slice() else {
            return Err(Refusal::at(
                "topics",
                format!("Dòng {}: cần ghi «số lĩnh vực | mã | tên chủ đề».", i + 1),
            ));
        };
        let area = areas
            .iter_mut()
            .find(|a| a.area.to_string() == *number)
            .ok_or_else(|| {
                Refusal::at(
                    "topics",
                    format!(
                        "Dòng {}: lĩnh vực «{number}» không có trong danh sách lĩnh vực.",
                        i + 1
                    ),
                )
            })?;
        area.topics.push(pb::Topic {
            code: code.clone(),
            title: title.clone(),
        });
    }
    let mut duties: Vec<pb::RoleDuties> = Vec::new();
    for (i, parts) in lines(values, "duties").into_iter().enumerate() {
        let [role, duty] = parts.as_slice() else {
            return Err(Refusal::at(
                "duties",
                format!("Dòng {}: cần ghi «vai trò | nhiệm vụ».", i + 1),
            ));
        };
        let role = role_named(role).ok_or_else(|| Refusal::at("duties", format!("Dòng {}: «{role}» không phải vai trò trong kế hoạch (Hiệu trưởng, Phó Hiệu trưởng, Tổ trưởng chuyên môn, Tổ văn phòng, Công đoàn, Giáo viên).", i + 1)))?;
        let code = pb::Role::from(role) as i32;
        match duties.iter_mut().find(|d| d.role == code) {
            Some(d) => d.duties.push(duty.clone()),
            None => duties.push(pb::RoleDuties {
                role: code,
                duties: vec![duty.clone()],
            }),
        }
    }
    Ok(pb::Plan {
        number: text(values, "number").to_owned(),
        issuer: text(values, "issuer").to_owned(),
        parent_agency: text(values, "parent_agency").to_owned(),
        place: text(values, "place").to_owned(),
        date: iso(text(values, "date")),
        title: text(values, "title").to_owned(),
        period_start: iso(text(values, "period_start")),
        period_end: iso(text(values, "period_end")),
        legal_bases,
        purposes: text(values, "purposes").to_owned(),
        requirements: text(values, "requirements").to_owned(),
        content_areas: areas,
        duties,
    })
}

/// Adopts what the person confirmed.
pub async fn adopt(
    State(state): State<AppState>,
    staff: Staff,
    Form(values): Form<Values>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, values.get("csrf").map_or("", String::as_str))?;
    check_duty(&staff)?;
    let refusal = match plan_of(&values) {
        Err(refusal) => refusal,
        Ok(plan) => match staff
            .agent
            .clone()
            .adopt_plan(pb::AdoptPlanRequest {
                header: None,
                plan: Some(plan),
            })
            .await
        {
            Ok(_) => return Ok(Redirect::to("/ke-hoach").into_response()),
            Err(status) => match wire::status::vietnamese_message(&status) {
                Some(message) => Refusal::at(
                    wire::status::violated_field(&status)
                        .as_deref()
                        .map_or("", field_of),
                    message,
                ),
                None => return Err(PageError::from_status(&status)),
            },
        },
    };
    Ok(respond(
        &state,
        &staff,
        review(&staff, &values, &[refusal], &[]),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_read_and_confirmed_unchanged_is_a_plan_the_wire_accepts() {
        let seed = include_str!("../../../../deploy/plans/kh-114-thcs-an-hoa-2017.txt");
        let reading = plan_reader::read_text(seed);
        let plan = plan_of(&values_of(&reading)).expect("the review form reads back");
        let plan = wire::convert::plan_from_pb(plan).expect("the wire accepts it");
        assert_eq!(plan.number, "114/KH-THCSAH");
        assert_eq!(plan.content_areas.len(), 6);
        assert_eq!(plan.legal_bases.len(), reading.proposal.legal_bases.len());
    }

    #[test]
    fn refusals_land_beside_the_review_form_s_fields() {
        assert_eq!(field_of("plan.legal_bases[4].date"), "legal_bases");
        assert_eq!(field_of("plan.content_areas[2].topics[0].code"), "topics");
        assert_eq!(field_of("content_areas"), "areas");
        assert_eq!(field_of("plan.period"), "period_start");
        assert_eq!(field_of("date"), "date");
        assert_eq!(role_named("Phó Hiệu trưởng"), Some(Role::VicePrincipal));
        assert_eq!(role_named("pho hieu truong"), Some(Role::VicePrincipal));
        assert_eq!(role_named("Tổng phụ trách Đội"), None);
    }
}
