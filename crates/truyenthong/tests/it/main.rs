//! The `truyenthong` binary against the real school agent (in this process, on port 0) and a
//! real nats-server: what staff see on stdout and stderr, and the exit codes. Each school's
//! runs share a profile folder (`XDG_CONFIG_HOME`) holding the session of the head the
//! fixture signed in, as `truyenthong dang-nhap` would have stored it.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use agent_fixture::requests::PERSON;
use agent_fixture::{HEAD_LOGIN, HEAD_NAME, PASSWORD, RunningAgent, SchoolDir};
use test_harness::NatsServer;
use truyenthong::session::{Session, SessionFile};

const SEED_PLAN: &str = "../../deploy/plans/kh-114-thcs-an-hoa-2017.toml";

/// A nats-server, a school directory, the agent running in this process, and the head's
/// profile folder with the head signed in.
struct School {
    _nats: NatsServer,
    dir: SchoolDir,
    url: String,
    agent: Option<RunningAgent>,
    head_profile: tempfile::TempDir,
}

/// The session file under a profile folder (`XDG_CONFIG_HOME`).
fn session_file(profile: &Path) -> SessionFile {
    SessionFile::at(profile.join("truyenthong").join("phien"))
}

impl School {
    async fn start() -> Self {
        let nats = NatsServer::start().await.unwrap();
        let dir = SchoolDir::new().unwrap();
        let agent = RunningAgent::start(dir.settings(&nats.url()))
            .await
            .unwrap();
        let head_profile = tempfile::tempdir().unwrap();
        session_file(head_profile.path())
            .put(Session {
                may_chu: agent.url(),
                ten_dang_nhap: HEAD_LOGIN.into(),
                vai_tro: "principal".into(),
                token: agent.head_token.clone(),
            })
            .unwrap();
        Self {
            _nats: nats,
            dir,
            url: agent.url(),
            agent: Some(agent),
            head_profile,
        }
    }

    /// Stops the agent gracefully; the directory stays.
    async fn stop_agent(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop().await.unwrap();
        }
    }

    /// A run as the head.
    async fn cli(&self, args: &[&str]) -> Run {
        cli(&self.url, self.head_profile.path(), args, "").await
    }

    /// The agent's head seq, read through the CLI's JSON status.
    async fn head(&self) -> u64 {
        let run = self.cli(&["trang-thai", "--json"]).await;
        assert_eq!(run.code, 0, "{run:?}");
        let status: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        status["head_seq"].as_u64().unwrap()
    }

    async fn adopt_seed_plan(&self) {
        let run = self.cli(&["ke-hoach", "ban-hanh", &seed_plan_path()]).await;
        assert_eq!(run.code, 0, "{run:?}");
    }
}

/// One run of the binary.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// One run with the profile folder `profile` and `input` on standard input (not a terminal,
/// so passwords are read from it line by line).
async fn cli(url: &str, profile: &Path, args: &[&str], input: &str) -> Run {
    use tokio::io::AsyncWriteExt as _;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_truyenthong"))
        .args(args)
        .env("TRUYENTHONG_AGENT_URL", url)
        .env("XDG_CONFIG_HOME", profile)
        .env_remove("TRUYENTHONG_TRUONG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        elapsed: started.elapsed(),
    }
}

fn seed_plan_path() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SEED_PLAN)
        .display()
        .to_string()
}

fn record_args<'a>(date: &'a str, title: &'a str) -> Vec<&'a str> {
    vec![
        "hoat-dong",
        "ghi",
        "--ngay",
        date,
        "--noi-dung",
        "3",
        "--chu-de",
        "huong-nghiep",
        "--kenh",
        "dai-truyen-thanh",
        "--tieu-de",
        title,
        "--tom-tat",
        "Phát thanh về tư vấn hướng nghiệp cho học sinh lớp 9 trên Đài Truyền thanh huyện.",
        "--doi-tuong",
        "Phụ huynh học sinh khối 9",
        "--so-nguoi",
        "350",
        "--minh-chung",
        "https://thcsanhoa.tamnong.edu.vn/tin-tuc/huong-nghiep",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_the_seed_plan_prints_the_175_warning_and_the_plan_shows_topic_codes() {
    let school = School::start().await;

    let run = school
        .cli(&["ke-hoach", "ban-hanh", &seed_plan_path()])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Đã ban hành kế hoạch 114/KH-THCSAH (sự kiện số 1)."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "Căn cứ 175/KH-UBND ngày 30/12/2017 ban hành sau chính kế hoạch (ngày 20/10/2017)"
        ),
        "{}",
        run.stdout
    );
    eprintln!("ke-hoach ban-hanh: {:?}", run.elapsed);

    let run = school.cli(&["plan", "show"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "Kế hoạch số 114/KH-THCSAH ngày 20/10/2017 của Trường THCS An Hòa",
        "Thời gian thực hiện: 20/10/2017 – 31/12/2020",
        "3. Nhiệm vụ",
        "huong-nghiep",
        "kh-175-ubnd",
        "Phó Hiệu trưởng (pho-hieu-truong):",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} in\n{}",
            run.stdout
        );
    }

    // Once only: a second adoption is refused, in Vietnamese, exit code 1.
    let run = school
        .cli(&["ke-hoach", "ban-hanh", &seed_plan_path()])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Lỗi: Kế hoạch 114/KH-THCSAH đã được ban hành"),
        "{}",
        run.stderr
    );
    assert_eq!(school.head().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_activity_shows_in_the_log_and_can_be_corrected_and_retracted() {
    let school = School::start().await;
    school.adopt_seed_plan().await;

    let mut args = record_args(
        "15/03/2018",
        "Tư vấn hướng nghiệp trên Đài Truyền thanh huyện",
    );
    args.push("--json");
    let run = school.cli(&args).await;
    assert_eq!(run.code, 0, "{run:?}");
    let reply: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(reply["seq"], 2);
    let id = reply["entity_id"].as_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);

    let run = school.cli(&["nhat-ky"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("Ghi hoạt động"))
        .unwrap_or_else(|| panic!("no activity line in\n{}", run.stdout));
    assert!(line.contains("15/03/2018"), "{line}");
    assert!(
        line.contains("Tư vấn hướng nghiệp trên Đài Truyền thanh"),
        "{line}"
    );
    assert!(
        line.contains("đã gửi") || line.contains("chưa gửi"),
        "{line}"
    );
    assert!(run.stdout.contains(&format!("mã: {id}")), "{}", run.stdout);
    assert!(run.stdout.contains("Ban hành kế hoạch"), "{}", run.stdout);

    // A correction changes only what is given; the rest comes from the log.
    let run = school
        .cli(&[
            "hoat-dong",
            "sua",
            &id,
            "--ly-do",
            "Sai tiêu đề",
            "--tieu-de",
            "Tiêu đề đã sửa",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Đã sửa hoạt động (sự kiện số 3)."),
        "{}",
        run.stdout
    );
    let run = school.cli(&["events", "--json"]).await;
    let events: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let corrected = &events["events"][2];
    assert_eq!(corrected["type"], "activity.corrected");
    assert_eq!(corrected["data"]["title"], "Tiêu đề đã sửa");
    assert_eq!(corrected["data"]["date"], "2018-03-15");
    assert_eq!(corrected["data"]["reach"], 350);
    // The actor is the signed-in account.
    assert_eq!(corrected["actor"]["person"], HEAD_NAME);
    assert_eq!(corrected["actor"]["role"], "principal");

    let run = school
        .cli(&["hoat-dong", "huy", &id, "--ly-do", "Ghi nhầm"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let run = school.cli(&["nhat-ky", "--tu-seq", "4"]).await;
    assert!(run.stdout.contains("Hủy hoạt động"), "{}", run.stdout);
    assert!(run.stdout.contains("lý do: Ghi nhầm"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_dates_are_refused_in_vietnamese_naming_the_field() {
    let school = School::start().await;
    school.adopt_seed_plan().await;

    // Not a date at all: refused here, before anything is sent.
    let run = school.cli(&record_args("2018-02-30", "Tin bài")).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Lỗi: Ngày «2018-02-30» không có trên lịch"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("(trường dữ liệu: activity.date, tùy chọn --ngay)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // A date outside the plan period: refused by the agent, in its Vietnamese.
    let run = school.cli(&record_args("2031-01-01", "Tin bài")).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "Lỗi: Ngày 01/01/2031 nằm ngoài thời gian thực hiện kế hoạch (20/10/2017 – 31/12/2020) (trường dữ liệu: activity.date)"
        ),
        "{}",
        run.stderr
    );

    // In JSON, the error names the code and the field.
    let mut args = record_args("2031-01-01", "Tin bài");
    args.push("--json");
    let run = school.cli(&args).await;
    assert_eq!(run.code, 1, "{run:?}");
    let err: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
    assert_eq!(err["error"]["code"], "INVALID_ARGUMENT");
    assert_eq!(err["error"]["field"], "activity.date");

    assert_eq!(school.head().await, 1, "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_that_is_not_utf8_is_refused_clearly_and_nothing_is_stored() {
    let school = School::start().await;
    assert_eq!(school.head().await, 0);

    // The seed plan as a Windows-1258 editor would save "Hòa": 'o' + 0xD2 (combining grave).
    let seed = std::fs::read_to_string(seed_plan_path()).unwrap();
    let mut bytes = seed.into_bytes();
    let needle = "issuer = \"Trường THCS An H".as_bytes();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
        + needle.len();
    // Replace "ò" (2 bytes in UTF-8) with "o" and a lone 0xD2.
    bytes.splice(at..at + 2, [b'o', 0xD2]);
    let bad: PathBuf = school.dir.path().join("ke-hoach-1258.toml");
    std::fs::write(&bad, &bytes).unwrap();
    let offset = at + 1;

    let run = school
        .cli(&["ke-hoach", "ban-hanh", bad.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("không phải văn bản UTF-8 hợp lệ"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("byte thứ {offset} (tính từ 0; dòng 12, cột 28)")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("0xD2"), "{}", run.stderr);

    // A file that does not exist, and one whose TOML is broken.
    let run = school
        .cli(&["ke-hoach", "ban-hanh", "/khong/co/tep-nay.toml"])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Lỗi: Không tìm thấy tệp «/khong/co/tep-nay.toml»."),
        "{}",
        run.stderr
    );
    let broken = school.dir.path().join("ke-hoach-hong.toml");
    let text = std::fs::read_to_string(seed_plan_path()).unwrap().replacen(
        "number = \"114/KH-THCSAH\"\n",
        "",
        1,
    );
    std::fs::write(&broken, text).unwrap();
    let run = school
        .cli(&["ke-hoach", "ban-hanh", broken.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("thiếu trường «number»"),
        "{}",
        run.stderr
    );

    assert_eq!(school.head().await, 0, "nothing was stored");
    let run = school.cli(&["trang-thai"]).await;
    assert!(
        run.stdout.contains("Sự kiện mới nhất: số 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Kế hoạch: chưa ban hành"),
        "{}",
        run.stdout
    );
}

/// A CSV of `rows` activities; the rows at the given 0-based indexes are broken: the first
/// with a date that does not exist (refused here), the second with a topic not in the plan
/// (refused by the agent).
fn activities_csv(rows: usize, bad: [usize; 2]) -> String {
    let topics = [
        (1, "nq-29-nq-88"),
        (2, "phat-trien-doi-ngu"),
        (3, "huong-nghiep"),
        (4, "ton-vinh-dien-hinh"),
        (5, "thu-tuc-hanh-chinh"),
        (6, "chi-dao-dia-phuong"),
    ];
    let channels = ["dai-truyen-thanh", "cong-thong-tin", "facebook", "hoi-hop"];
    let mut csv = String::from("ngay,noi-dung,chu-de,kenh,tieu-de,tom-tat,doi-tuong,so-nguoi\n");
    for i in 0..rows {
        let (area, topic) = topics[i % topics.len()];
        let day =
            chrono::NaiveDate::from_ymd_opt(2017, 11, 1).unwrap() + chrono::Days::new(i as u64);
        let mut date = day.format("%d/%m/%Y").to_string();
        let mut topic = topic.to_string();
        if i == bad[0] {
            date = "30/02/2018".to_string();
        }
        if i == bad[1] {
            topic = "bong-da".to_string();
        }
        csv.push_str(&format!(
            "{date},{area},{topic},{},\"Tin bài số {i}, về hoạt động của trường\",Đăng tin cho phụ huynh và nhân dân xã An Hòa.,Phụ huynh học sinh,{}\n",
            channels[i % channels.len()],
            100 + i
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_reports_exactly_the_bad_rows_and_a_rerun_records_nothing_twice() {
    let school = School::start().await;
    school.adopt_seed_plan().await;
    let file = school.dir.path().join("hoat-dong.csv");
    std::fs::write(&file, activities_csv(200, [49, 149])).unwrap();
    let path = file.to_str().unwrap();

    let run = school.cli(&["hoat-dong", "nhap", path]).await;
    eprintln!("hoat-dong nhap (200 rows): {:?}", run.elapsed);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("200 dòng hoạt động"), "{}", run.stdout);
    assert!(run.stdout.contains("Đã ghi mới: 198"), "{}", run.stdout);
    assert!(run.stdout.contains("Bị từ chối: 2 dòng:"), "{}", run.stdout);
    let refused: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("Dòng "))
        .collect();
    assert_eq!(refused.len(), 2, "{}", run.stdout);
    // Line = index + 2: the header is line 1.
    assert!(
        refused[0]
            .trim_start()
            .starts_with("Dòng 51: Ngày «30/02/2018» không có trên lịch"),
        "{}",
        refused[0]
    );
    assert!(refused[0].contains("cột «ngay»"), "{}", refused[0]);
    assert!(
        refused[1]
            .trim_start()
            .starts_with("Dòng 151: Chủ đề «bong-da» không thuộc nội dung số"),
        "{}",
        refused[1]
    );
    assert!(refused[1].contains("activity.topic"), "{}", refused[1]);
    assert!(
        run.stderr.contains("Đã gửi 199/199 hoạt động…"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Lỗi: Có 2 dòng bị từ chối."),
        "{}",
        run.stderr
    );
    assert_eq!(school.head().await, 1 + 198);

    // Running the same import again (after a lost link, say) records nothing twice.
    let run = school.cli(&["activity", "import", path, "--json"]).await;
    eprintln!("hoat-dong nhap again: {:?}", run.elapsed);
    assert_eq!(run.code, 1, "{run:?}");
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["recorded"], 0);
    assert_eq!(summary["already_recorded"], 198);
    let lines: Vec<u64> = summary["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [51, 151]);
    assert_eq!(school.head().await, 1 + 198);

    // Fixing the two rows and running it once more records just those two.
    std::fs::write(&file, activities_csv(200, [usize::MAX, usize::MAX])).unwrap();
    let run = school.cli(&["hoat-dong", "nhap", path]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Đã ghi mới: 2\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Đã có từ trước (không ghi lặp): 198"),
        "{}",
        run.stdout
    );
    assert_eq!(school.head().await, 1 + 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_when_the_agent_is_down_says_so_in_vietnamese() {
    let mut school = School::start().await;
    let run = school.cli(&["trang-thai"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Trường: thcs-an-hoa (huyện tam-nong, tỉnh dong-thap)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Tồn đọng:"), "{}", run.stdout);

    school.stop_agent().await;
    let run = school.cli(&["trang-thai"]).await;
    eprintln!("trang-thai with the agent down: {:?}", run.elapsed);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        format!(
            "Lỗi: Không kết nối được máy chủ của trường tại {}; kiểm tra school-agent đã chạy chưa.",
            school.url
        )
    );
    // Commands too, after checking their input.
    let run = school.cli(&record_args("2018-03-15", "Tin bài")).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Không kết nối được máy chủ của trường"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_in_vietnamese() {
    // No agent needed: these stop before connecting.
    let url = "http://127.0.0.1:1";
    let profile = tempfile::tempdir().unwrap();
    let cli = |url: &'static str, args: &'static [&'static str]| {
        let profile = profile.path().to_path_buf();
        async move { cli(url, &profile, args, "").await }
    };
    let run = cli(url, &["hoat-dong", "ghi", "--nhanh"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with("Lỗi: Không có tùy chọn «--nhanh»."),
        "{}",
        run.stderr
    );
    let run = cli(url, &["hoat-dong", "ghi", "--tieu-de", "x"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "Thiếu tùy chọn bắt buộc: --noi-dung <1..6>, --kenh <MÃ KÊNH>, --tom-tat <TÓM TẮT>."
        ),
        "{}",
        run.stderr
    );
    // Nobody signed in: the advice, before anything is sent.
    let run = cli(
        url,
        &[
            "y-kien",
            "nhan",
            "--kenh",
            "email",
            "--tieu-de",
            "a",
            "--chi-tiet",
            "b",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "Lỗi: Chưa đăng nhập vào máy chủ của trường tại http://127.0.0.1:1: chạy `truyenthong dang-nhap` trước."
    );
    let run = cli(
        url,
        &[
            "kinh-phi",
            "chi",
            "--khoan",
            "Băng rôn",
            "--so-tien",
            "-350.000",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Số tiền «-350.000» bị âm"),
        "{}",
        run.stderr
    );
    let run = cli(url, &["--help"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Cách dùng: truyenthong [TÙY CHỌN] <LỆNH>"),
        "{}",
        run.stdout
    );
}

/// The line after `prefix` in `text`.
fn line_after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line «{prefix}…» in {text}"))
        .trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_with_the_password_on_stdin_and_record_as_themselves() {
    let school = School::start().await;
    school.adopt_seed_plan().await;

    // The head creates the vice principal's account and hands over the one-time password.
    let run = school
        .cli(&[
            "tai-khoan",
            "tao",
            "--ten-dang-nhap",
            "nhung.nguyen",
            "--ho-ten",
            PERSON,
            "--vai-tro",
            "pho-hieu-truong",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let one_time = line_after(&run.stdout, "Mật khẩu dùng một lần:").to_string();

    // On her own profile: nothing works before signing in.
    let profile = tempfile::tempdir().unwrap();
    let her = |args: &[&str], input: &str| {
        let (url, profile) = (school.url.clone(), profile.path().to_path_buf());
        let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
        let input = input.to_string();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&url, &profile, &args, &input).await
        }
    };
    let run = her(&["trang-thai"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("chạy `truyenthong dang-nhap`"),
        "{run:?}"
    );

    // A wrong password: refused, nothing stored.
    let run = her(&["dang-nhap"], "nhung.nguyen\nkhông đúng\n").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Tên đăng nhập hoặc mật khẩu không đúng."),
        "{run:?}"
    );
    assert!(!profile.path().join("truyenthong/phien").exists());

    // The login and the password on stdin.
    let run = her(&["dang-nhap"], &format!("nhung.nguyen\n{one_time}\n")).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("Đã đăng nhập: {PERSON} (Phó Hiệu trưởng)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("truyenthong doi-mat-khau"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ttp_"), "the token is never printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let file = profile.path().join("truyenthong/phien");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The one-time password must be changed before anything else.
    let run = her(&record_args("2018-03-15", "Tin bài"), "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Phải đổi mật khẩu"), "{run:?}");
    let run = her(
        &["doi-mat-khau"],
        &format!("{one_time}\n{PASSWORD}\n{PASSWORD}\n"),
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");

    // Now she records, as herself, whatever the command line used to say.
    let run = her(&record_args("2018-03-15", "Tin bài"), "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let run = her(&["nhat-ky", "--json"], "").await;
    let events: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let recorded = &events["events"][1];
    assert_eq!(recorded["type"], "activity.recorded");
    assert_eq!(recorded["actor"]["person"], PERSON);
    assert_eq!(recorded["actor"]["role"], "vice_principal");
    // Her role's default as the responsible role.
    assert_eq!(recorded["data"]["responsible"], "vice_principal");

    // The budget is not her duty: refused naming the duty, nothing recorded.
    let run = her(
        &[
            "kinh-phi",
            "chi",
            "--khoan",
            "Băng rôn",
            "--so-tien",
            "350000",
        ],
        "",
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Ghi chi và quyết toán kinh phí"),
        "{}",
        run.stderr
    );
    assert_eq!(school.head().await, 2);
    // Managing accounts is the head's.
    let run = her(&["tai-khoan", "danh-sach"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Chỉ Hiệu trưởng"), "{}", run.stderr);
    let run = school.cli(&["tai-khoan", "danh-sach"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("nhung.nguyen — Nguyễn Thị Hồng Nhung (Phó Hiệu trưởng)"),
        "{}",
        run.stdout
    );
    let run = her(&["tai-khoan"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Đang đăng nhập: nhung.nguyen"),
        "{}",
        run.stdout
    );

    // Signed out, the session is gone here and at the agent.
    let run = her(&["dang-xuat"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Đã đăng xuất tài khoản nhung.nguyen."),
        "{}",
        run.stdout
    );
    let run = her(&["trang-thai"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Chưa đăng nhập"), "{run:?}");
}
