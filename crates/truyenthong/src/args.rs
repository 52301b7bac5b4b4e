//! The command line, as clap derive definitions.
//!
//! Command names are ASCII Vietnamese without diacritics (`ke-hoach ban-hanh`), with English
//! aliases (`plan adopt`); every help text is Vietnamese with its diacritics. Help texts are
//! given with explicit `about`/`help` attributes, never doc comments, so that English
//! comments in the code can never leak into what staff read. Headings, the usage line and
//! clap's own errors are localised in [`crate::clap_vi`].
//!
//! Values that are facts (dates, codes, amounts, texts) are taken as strings here and checked
//! by the commands, so that a wrong value is a refusal (exit code 1) with a message naming the
//! field; only the shape of the command line is a usage error (exit code 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::vocab;

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "truyenthong",
    version,
    about = "Ghi công tác truyền thông về giáo dục và đào tạo của trường vào sổ của máy chủ trường (school-agent).",
    after_help = "Ví dụ:\n  truyenthong dang-nhap\n  truyenthong ke-hoach ban-hanh deploy/plans/kh-114-thcs-an-hoa-2017.toml\n  truyenthong hoat-dong ghi --ngay 2018-03-15 --noi-dung 3 --chu-de huong-nghiep --kenh dai-truyen-thanh --tieu-de \"…\" --tom-tat \"…\"\n  truyenthong trang-thai"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, also from the environment.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    #[arg(
        long = "may-chu",
        alias = "agent",
        env = "TRUYENTHONG_AGENT_URL",
        default_value = "http://127.0.0.1:50051",
        global = true,
        value_name = "ĐỊA CHỈ",
        help = "Địa chỉ máy chủ của trường (school-agent); mặc định http://127.0.0.1:50051, biến môi trường TRUYENTHONG_AGENT_URL"
    )]
    pub agent: String,

    #[arg(
        long = "truong",
        alias = "school",
        env = "TRUYENTHONG_TRUONG",
        global = true,
        value_name = "MÃ TRƯỜNG",
        help = "Mã trường, ví dụ thcs-an-hoa: máy chủ của trường khác sẽ từ chối lệnh; biến môi trường TRUYENTHONG_TRUONG"
    )]
    pub school: Option<String>,

    #[arg(
        long = "json",
        global = true,
        help = "In kết quả dạng JSON cho chương trình khác đọc"
    )]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(
        name = "dang-nhap",
        alias = "sign-in",
        about = "Đăng nhập vào máy chủ của trường bằng tài khoản của mình (hỏi tên đăng nhập và mật khẩu); phiên được lưu cho các lệnh sau"
    )]
    SignIn(SignInArgs),
    #[command(
        name = "dang-xuat",
        alias = "sign-out",
        about = "Đăng xuất: kết thúc phiên và xóa phiên đã lưu trên máy này"
    )]
    SignOut,
    #[command(
        name = "doi-mat-khau",
        alias = "change-password",
        about = "Đổi mật khẩu của mình (bắt buộc ở lần đăng nhập đầu tiên và sau khi được đặt lại)"
    )]
    ChangePassword,
    #[command(
        name = "tai-khoan",
        alias = "account",
        about = "Xem tài khoản đang đăng nhập; Hiệu trưởng quản lý tài khoản cán bộ, giáo viên của trường",
        after_help = vocab::roles_help()
    )]
    Account {
        #[command(subcommand)]
        command: Option<AccountCommand>,
    },
    #[command(
        name = "ke-hoach",
        alias = "plan",
        about = "Kế hoạch truyền thông của trường: ban hành, xem"
    )]
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
    #[command(
        name = "hoat-dong",
        alias = "activity",
        about = "Hoạt động truyền thông: ghi, sửa, hủy, nhập từ tệp CSV"
    )]
    Activity {
        #[command(subcommand)]
        command: ActivityCommand,
    },
    #[command(
        name = "y-kien",
        alias = "feedback",
        about = "Ý kiến của người dân: nhận, trả lời"
    )]
    Feedback {
        #[command(subcommand)]
        command: FeedbackCommand,
    },
    #[command(
        name = "bao-chi",
        alias = "press",
        about = "Vấn đề báo chí nêu: nhận, trả lời"
    )]
    Press {
        #[command(subcommand)]
        command: PressCommand,
    },
    #[command(
        name = "phong-vien",
        alias = "reporter",
        about = "Phóng viên đến trường"
    )]
    Reporter {
        #[command(subcommand)]
        command: ReporterCommand,
    },
    #[command(
        name = "khen-thuong",
        alias = "commendation",
        about = "Khen thưởng: đề nghị, quyết định khen thưởng"
    )]
    Commendation {
        #[command(subcommand)]
        command: CommendationCommand,
    },
    #[command(
        name = "thi-dua",
        alias = "emulation",
        about = "Thi đua: tiêu chí thi đua của năm học"
    )]
    Emulation {
        #[command(subcommand)]
        command: EmulationCommand,
    },
    #[command(
        name = "kinh-phi",
        alias = "budget",
        about = "Kinh phí truyền thông: dự toán, chi, quyết toán"
    )]
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
    #[command(
        name = "phan-cong",
        alias = "assign",
        about = "Phân công nhiệm vụ truyền thông cho một người"
    )]
    Assign(AssignArgs),
    #[command(
        name = "nhat-ky",
        alias = "events",
        about = "Xem nhật ký các sự kiện đã ghi"
    )]
    Events(EventsArgs),
    #[command(
        name = "trang-thai",
        alias = "status",
        about = "Tình trạng máy chủ của trường và việc gửi sự kiện về Phòng GD-ĐT"
    )]
    Status,
}

#[derive(Debug, Clone, Args)]
pub struct SignInArgs {
    #[arg(
        long = "ten-dang-nhap",
        alias = "login",
        value_name = "TÊN ĐĂNG NHẬP",
        help = "Tên đăng nhập; không nêu thì chương trình hỏi"
    )]
    pub login: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    #[command(
        name = "danh-sach",
        alias = "list",
        about = "Danh sách tài khoản của trường (chỉ Hiệu trưởng)"
    )]
    List,
    #[command(
        name = "tao",
        alias = "create",
        about = "Tạo tài khoản cho một cán bộ, giáo viên (chỉ Hiệu trưởng); in mật khẩu dùng một lần",
        after_help = vocab::roles_help()
    )]
    Create {
        #[arg(
            long = "ten-dang-nhap",
            alias = "login",
            value_name = "TÊN ĐĂNG NHẬP",
            required = true,
            help = "Tên đăng nhập: chữ a-z không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới; ví dụ nhung.nguyen"
        )]
        login: String,
        #[arg(
            long = "ho-ten",
            alias = "full-name",
            value_name = "HỌ TÊN",
            required = true,
            help = "Họ và tên, có dấu"
        )]
        full_name: String,
        #[arg(
            long = "vai-tro",
            alias = "role",
            value_name = "MÃ VAI TRÒ",
            required = true,
            help = "Vai trò trong kế hoạch, ví dụ pho-hieu-truong, to-truong, to-van-phong, cong-doan, giao-vien"
        )]
        role: String,
    },
    #[command(
        name = "dat-lai-mat-khau",
        alias = "reset-password",
        about = "Đặt lại mật khẩu của một tài khoản (chỉ Hiệu trưởng); in mật khẩu dùng một lần mới"
    )]
    ResetPassword {
        #[arg(value_name = "TÊN ĐĂNG NHẬP", help = "Tài khoản cần đặt lại mật khẩu")]
        login: String,
    },
    #[command(
        name = "khoa",
        alias = "disable",
        about = "Khóa một tài khoản: không đăng nhập được nữa, các phiên đang mở kết thúc (chỉ Hiệu trưởng)"
    )]
    Disable {
        #[arg(value_name = "TÊN ĐĂNG NHẬP", help = "Tài khoản cần khóa")]
        login: String,
    },
    #[command(
        name = "mo-khoa",
        alias = "enable",
        about = "Mở lại một tài khoản đã khóa (chỉ Hiệu trưởng)"
    )]
    Enable {
        #[arg(value_name = "TÊN ĐĂNG NHẬP", help = "Tài khoản cần mở lại")]
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    #[command(
        name = "ban-hanh",
        alias = "adopt",
        about = "Ban hành kế hoạch từ tệp TOML (chỉ một lần; sau đó kế hoạch chỉ được bổ sung)"
    )]
    Adopt {
        #[arg(
            value_name = "TỆP.toml",
            help = "Tệp kế hoạch, ví dụ deploy/plans/kh-114-thcs-an-hoa-2017.toml"
        )]
        file: PathBuf,
    },
    #[command(
        name = "xem",
        alias = "show",
        about = "Xem kế hoạch đã ban hành: nội dung, mã chủ đề, nhiệm vụ của từng vai trò"
    )]
    Show,
}

#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    #[command(
        name = "ghi",
        alias = "record",
        about = "Ghi một hoạt động truyền thông",
        after_help = vocab::codes_help()
    )]
    Record {
        #[command(flatten)]
        fields: ActivityFields,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã hoạt động (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
    #[command(
        name = "sua",
        alias = "correct",
        about = "Sửa một hoạt động đã ghi; các thông tin không nêu được giữ nguyên",
        after_help = vocab::codes_help()
    )]
    Correct {
        #[arg(
            value_name = "MÃ HOẠT ĐỘNG",
            help = "Mã hoạt động cần sửa (xem bằng lệnh nhat-ky)"
        )]
        id: String,
        #[arg(
            long = "ly-do",
            alias = "reason",
            value_name = "LÝ DO",
            required = true,
            help = "Lý do sửa"
        )]
        reason: String,
        #[command(flatten)]
        fields: ActivityFields,
    },
    #[command(name = "huy", alias = "retract", about = "Hủy một hoạt động đã ghi")]
    Retract {
        #[arg(
            value_name = "MÃ HOẠT ĐỘNG",
            help = "Mã hoạt động cần hủy (xem bằng lệnh nhat-ky)"
        )]
        id: String,
        #[arg(
            long = "ly-do",
            alias = "reason",
            value_name = "LÝ DO",
            required = true,
            help = "Lý do hủy"
        )]
        reason: String,
    },
    #[command(
        name = "nhap",
        alias = "import",
        about = "Nhập nhiều hoạt động từ tệp CSV (dòng đầu là tên cột: ngay, noi-dung, chu-de, kenh, tieu-de, tom-tat, doi-tuong, so-nguoi, doi-tac, minh-chung, phu-trach)",
        after_help = "Mỗi dòng được gán một mã hoạt động cố định theo nội dung của dòng, nên chạy lại cùng lệnh (ví dụ sau khi mất mạng, hoặc sau khi sửa các dòng bị từ chối) không ghi lặp những dòng đã ghi. Có thể thêm cột «ma» để tự đặt mã.\nTệp phải lưu dạng UTF-8; dấu phân cách là dấu phẩy hoặc dấu chấm phẩy."
    )]
    Import {
        #[arg(value_name = "TỆP.csv", help = "Tệp CSV các hoạt động")]
        file: PathBuf,
    },
}

/// The details of an activity, shared by recording and correcting. All optional here: the
/// command checks what recording requires, and a correction keeps what is not given.
#[derive(Debug, Clone, Default, Args)]
pub struct ActivityFields {
    #[arg(
        long = "ngay",
        alias = "date",
        value_name = "NGÀY",
        help = "Ngày diễn ra, dạng YYYY-MM-DD hoặc DD/MM/YYYY; khi ghi mới, mặc định là hôm nay (giờ Việt Nam)"
    )]
    pub date: Option<String>,
    #[arg(
        long = "noi-dung",
        alias = "area",
        value_name = "1..6",
        value_parser = crate::values::area_arg,
        help = "Nội dung truyền thông trọng tâm, số 1 đến 6 của kế hoạch (bắt buộc khi ghi)"
    )]
    pub area: Option<u32>,
    #[arg(
        long = "chu-de",
        alias = "topic",
        value_name = "MÃ CHỦ ĐỀ",
        help = "Mã chủ đề thuộc nội dung đó (xem bằng: truyenthong ke-hoach xem)"
    )]
    pub topic: Option<String>,
    #[arg(
        long = "kenh",
        alias = "channel",
        value_name = "MÃ KÊNH",
        help = "Kênh truyền thông, ví dụ dai-truyen-thanh, cong-thong-tin, facebook (bắt buộc khi ghi; danh sách ở cuối)"
    )]
    pub channel: Option<String>,
    #[arg(
        long = "tieu-de",
        alias = "title",
        value_name = "TIÊU ĐỀ",
        help = "Tiêu đề (bắt buộc khi ghi)"
    )]
    pub title: Option<String>,
    #[arg(
        long = "tom-tat",
        alias = "summary",
        value_name = "TÓM TẮT",
        help = "Tóm tắt nội dung (bắt buộc khi ghi)"
    )]
    pub summary: Option<String>,
    #[arg(
        long = "doi-tuong",
        alias = "audience",
        value_name = "ĐỐI TƯỢNG",
        help = "Đối tượng, ví dụ \"phụ huynh học sinh khối 9\""
    )]
    pub audience: Option<String>,
    #[arg(
        long = "so-nguoi",
        alias = "reach",
        value_name = "SỐ NGƯỜI",
        value_parser = crate::values::u32_arg,
        help = "Số người được tiếp cận, nếu biết"
    )]
    pub reach: Option<u32>,
    #[arg(
        long = "doi-tac",
        alias = "partner",
        value_name = "ĐƠN VỊ",
        help = "Đơn vị phối hợp, ví dụ \"Hội Khuyến học xã\""
    )]
    pub partner: Option<String>,
    #[arg(
        long = "minh-chung",
        alias = "evidence",
        value_name = "ĐƯỜNG DẪN",
        help = "Đường dẫn minh chứng (http/https): bài trên cổng thông tin, bài đăng, bản ghi âm"
    )]
    pub evidence: Option<String>,
    #[arg(
        long = "phu-trach",
        alias = "responsible",
        value_name = "MÃ VAI TRÒ",
        help = "Vai trò phụ trách; mặc định là vai trò của tài khoản đang đăng nhập"
    )]
    pub responsible: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    #[command(name = "nhan", alias = "receive", about = "Ghi một ý kiến người dân gửi đến trường", after_help = vocab::codes_help())]
    Receive {
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày nhận; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "kenh",
            alias = "channel",
            value_name = "MÃ KÊNH",
            required = true,
            help = "Kênh nhận, ví dụ duong-day-nong, email, facebook"
        )]
        channel: String,
        #[arg(
            long = "nguoi-gui",
            alias = "citizen",
            value_name = "HỌ TÊN",
            help = "Họ tên người gửi; để trống nếu ẩn danh"
        )]
        citizen: Option<String>,
        #[arg(
            long = "tieu-de",
            alias = "subject",
            value_name = "TIÊU ĐỀ",
            required = true,
            help = "Tiêu đề ý kiến"
        )]
        subject: String,
        #[arg(
            long = "chi-tiet",
            alias = "content",
            value_name = "NỘI DUNG",
            required = true,
            help = "Nội dung ý kiến"
        )]
        content: String,
        #[arg(long = "noi-dung", alias = "area", value_name = "1..6", value_parser = crate::values::area_arg, help = "Nội dung truyền thông liên quan (1 đến 6), nếu có")]
        area: Option<u32>,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã ý kiến (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
    #[command(name = "tra-loi", alias = "answer", about = "Ghi việc trả lời một ý kiến người dân", after_help = vocab::codes_help())]
    Answer {
        #[arg(value_name = "MÃ Ý KIẾN", help = "Mã ý kiến được trả lời")]
        id: String,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày trả lời; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "kenh",
            alias = "channel",
            value_name = "MÃ KÊNH",
            required = true,
            help = "Kênh trả lời"
        )]
        channel: String,
        #[arg(
            long = "cau-tra-loi",
            alias = "answer",
            value_name = "NỘI DUNG",
            required = true,
            help = "Nội dung trả lời"
        )]
        answer: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PressCommand {
    #[command(
        name = "nhan",
        alias = "raise",
        about = "Ghi một vấn đề báo chí nêu về trường hoặc ngành"
    )]
    Raise {
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày báo nêu; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "bao",
            alias = "outlet",
            value_name = "TÊN BÁO",
            required = true,
            help = "Cơ quan báo chí, ví dụ \"Báo Đồng Tháp\""
        )]
        outlet: String,
        #[arg(
            long = "tieu-de",
            alias = "title",
            value_name = "TIÊU ĐỀ",
            required = true,
            help = "Tiêu đề bài báo"
        )]
        title: String,
        #[arg(
            long = "tom-tat",
            alias = "summary",
            value_name = "TÓM TẮT",
            required = true,
            help = "Tóm tắt vấn đề"
        )]
        summary: String,
        #[arg(
            long = "duong-dan",
            alias = "url",
            value_name = "ĐƯỜNG DẪN",
            help = "Đường dẫn bài báo (http/https), nếu có"
        )]
        url: Option<String>,
        #[arg(long = "noi-dung", alias = "area", value_name = "1..6", value_parser = crate::values::area_arg, help = "Nội dung truyền thông liên quan (1 đến 6), nếu có")]
        area: Option<u32>,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã vấn đề (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
    #[command(name = "tra-loi", alias = "answer", about = "Ghi việc trường trả lời, phản hồi vấn đề báo chí nêu", after_help = vocab::codes_help())]
    Answer {
        #[arg(value_name = "MÃ VẤN ĐỀ", help = "Mã vấn đề báo chí được trả lời")]
        id: String,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày trả lời; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "kenh",
            alias = "channel",
            value_name = "MÃ KÊNH",
            required = true,
            help = "Kênh phản hồi"
        )]
        channel: String,
        #[arg(
            long = "phan-hoi",
            alias = "response",
            value_name = "NỘI DUNG",
            required = true,
            help = "Nội dung phản hồi"
        )]
        response: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReporterCommand {
    #[command(
        name = "tiep",
        alias = "host",
        about = "Ghi việc tiếp phóng viên đến trường"
    )]
    Host {
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày tiếp; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "bao",
            alias = "outlet",
            value_name = "TÊN BÁO",
            required = true,
            help = "Cơ quan báo chí"
        )]
        outlet: String,
        #[arg(
            long = "phong-vien",
            alias = "reporter",
            value_name = "HỌ TÊN",
            required = true,
            help = "Họ tên phóng viên"
        )]
        reporter: String,
        #[arg(
            long = "muc-dich",
            alias = "purpose",
            value_name = "MỤC ĐÍCH",
            required = true,
            help = "Mục đích làm việc"
        )]
        purpose: String,
        #[arg(long = "noi-dung", alias = "area", value_name = "1..6", value_parser = crate::values::area_arg, help = "Nội dung truyền thông liên quan (1 đến 6), nếu có")]
        area: Option<u32>,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã buổi tiếp (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CommendationCommand {
    #[command(name = "de-nghi", alias = "nominate", about = "Đề nghị khen thưởng một cá nhân hoặc tập thể tiêu biểu", after_help = vocab::commendation_help())]
    Nominate {
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày đề nghị; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "loai",
            alias = "kind",
            value_name = "LOẠI",
            required = true,
            help = "ca-nhan (cá nhân) hoặc tap-the (tập thể)"
        )]
        kind: String,
        #[arg(
            long = "ten",
            alias = "nominee",
            value_name = "TÊN",
            required = true,
            help = "Họ tên cá nhân hoặc tên tập thể"
        )]
        nominee: String,
        #[arg(
            long = "thanh-tich",
            alias = "achievement",
            value_name = "THÀNH TÍCH",
            required = true,
            help = "Thành tích"
        )]
        achievement: String,
        #[arg(
            long = "muc",
            alias = "level",
            value_name = "MỨC",
            required = true,
            help = "Mức khen đề nghị: truong, huyen, tinh, bo, chinh-phu"
        )]
        level: String,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã đề nghị (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
    #[command(name = "quyet-dinh", alias = "award", about = "Ghi quyết định khen thưởng cho một đề nghị", after_help = vocab::commendation_help())]
    Award {
        #[arg(value_name = "MÃ ĐỀ NGHỊ", help = "Mã đề nghị khen thưởng")]
        id: String,
        #[arg(
            long = "muc",
            alias = "level",
            value_name = "MỨC",
            required = true,
            help = "Mức khen được quyết định: truong, huyen, tinh, bo, chinh-phu"
        )]
        level: String,
        #[arg(
            long = "so-quyet-dinh",
            alias = "decision",
            value_name = "SỐ",
            required = true,
            help = "Số, ký hiệu quyết định, ví dụ 25/QĐ-UBND"
        )]
        decision: String,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày quyết định; mặc định hôm nay"
        )]
        date: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmulationCommand {
    #[command(
        name = "tieu-chi",
        alias = "criteria",
        about = "Ban hành tiêu chí thi đua về truyền thông của một năm học"
    )]
    Criteria {
        #[arg(long = "nam-hoc", alias = "school-year", value_name = "NĂM", required = true, value_parser = crate::values::school_year_arg, help = "Năm học, ghi năm bắt đầu (2018 là năm học 2018–2019) hoặc 2018-2019")]
        school_year: i32,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày ban hành; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "tieu-chi",
            alias = "criterion",
            value_name = "TIÊU CHÍ=ĐIỂM",
            required = true,
            help = "Một tiêu chí và số điểm, ví dụ \"Có tin bài trên cổng thông tin=10\"; lặp lại cho nhiều tiêu chí"
        )]
        criteria: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    #[command(
        name = "du-toan",
        alias = "estimate",
        about = "Ghi dự toán kinh phí truyền thông của một năm (dự toán sau thay dự toán trước)"
    )]
    Estimate {
        #[arg(long = "nam", alias = "year", value_name = "NĂM", required = true, value_parser = crate::values::year_arg, help = "Năm ngân sách, ví dụ 2018")]
        year: i32,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày lập dự toán; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "muc",
            alias = "line",
            value_name = "KHOẢN=SỐ TIỀN",
            required = true,
            help = "Một khoản và số tiền (đồng), ví dụ \"Tin bài, phóng sự=3.000.000\"; lặp lại cho nhiều khoản"
        )]
        lines: Vec<String>,
    },
    #[command(
        name = "chi",
        alias = "expense",
        about = "Ghi một khoản chi cho công tác truyền thông"
    )]
    Expense {
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày chi; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "khoan",
            alias = "item",
            value_name = "KHOẢN CHI",
            required = true,
            help = "Nội dung khoản chi"
        )]
        item: String,
        #[arg(
            long = "so-tien",
            alias = "amount",
            value_name = "SỐ TIỀN",
            required = true,
            allow_hyphen_values = true,
            help = "Số tiền (đồng), ví dụ 350.000 hoặc 350000"
        )]
        amount: String,
        #[arg(
            long = "hoat-dong",
            alias = "activity",
            value_name = "MÃ HOẠT ĐỘNG",
            help = "Mã hoạt động được chi, nếu có"
        )]
        activity: Option<String>,
        #[arg(
            long = "chung-tu",
            alias = "voucher",
            value_name = "SỐ CHỨNG TỪ",
            help = "Số chứng từ, nếu có"
        )]
        voucher: Option<String>,
        #[arg(
            long = "ma",
            alias = "id",
            value_name = "MÃ",
            help = "Mã khoản chi (UUID) do người ghi chọn; để trống thì chương trình tự tạo"
        )]
        id: Option<String>,
    },
    #[command(
        name = "quyet-toan",
        alias = "settle",
        about = "Quyết toán kinh phí truyền thông của một năm (sau đó không ghi chi năm đó nữa)"
    )]
    Settle {
        #[arg(long = "nam", alias = "year", value_name = "NĂM", required = true, value_parser = crate::values::year_arg, help = "Năm quyết toán")]
        year: i32,
        #[arg(
            long = "ngay",
            alias = "date",
            value_name = "NGÀY",
            help = "Ngày quyết toán; mặc định hôm nay"
        )]
        date: Option<String>,
        #[arg(
            long = "so-tien",
            alias = "amount",
            value_name = "SỐ TIỀN",
            required = true,
            allow_hyphen_values = true,
            help = "Số tiền quyết toán (đồng)"
        )]
        amount: String,
        #[arg(
            long = "ghi-chu",
            alias = "note",
            value_name = "GHI CHÚ",
            help = "Ghi chú, nếu có"
        )]
        note: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(after_help = vocab::roles_help())]
pub struct AssignArgs {
    #[arg(
        long = "giao-cho",
        alias = "for-role",
        value_name = "MÃ VAI TRÒ",
        required = true,
        help = "Vai trò được phân công, ví dụ to-truong"
    )]
    pub role: String,
    #[arg(
        long = "ten",
        alias = "name",
        value_name = "HỌ TÊN",
        required = true,
        help = "Họ tên người được phân công"
    )]
    pub person: String,
    #[arg(
        long = "nhiem-vu",
        alias = "duty",
        value_name = "NHIỆM VỤ",
        required = true,
        help = "Nhiệm vụ được giao"
    )]
    pub duty: String,
    #[arg(
        long = "tu-ngay",
        alias = "since",
        value_name = "NGÀY",
        help = "Bắt đầu từ ngày; mặc định hôm nay"
    )]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[arg(
        long = "tu-seq",
        alias = "from-seq",
        value_name = "SỐ",
        value_parser = crate::values::u64_arg,
        help = "Xem từ sự kiện số này; mặc định là các sự kiện mới nhất"
    )]
    pub from_seq: Option<u64>,
    #[arg(
        long = "so-luong",
        alias = "limit",
        value_name = "SỐ",
        default_value = "20",
        value_parser = crate::values::u64_arg,
        help = "Số sự kiện tối đa; mặc định 20"
    )]
    pub limit: u64,
}
