//! What the demo's events say: titles and summaries on the plan's topics, citizens' questions,
//! press articles. Written the way a vice principal would type them into the school's log.

use domain::{Channel, ContentArea, Role};

use crate::rng::Rng;
use crate::schools::{DemoSchool, Level};

/// Titles for a topic code of the seed plan; `{school}` is replaced by the school's name.
fn titles(topic: &str) -> &'static [&'static str] {
    match topic {
        "chu-truong-giai-phap" => &[
            "Tuyên truyền nhiệm vụ trọng tâm năm học của ngành giáo dục huyện Tam Nông",
            "Phổ biến chỉ thị nhiệm vụ năm học đến cán bộ, giáo viên và phụ huynh",
        ],
        "nq-29-nq-88" => &[
            "Tuyên truyền Nghị quyết 29-NQ/TW về đổi mới căn bản, toàn diện giáo dục và đào tạo",
            "Sinh hoạt chuyên đề Nghị quyết 88/2014/QH13 cho cha mẹ học sinh",
        ],
        "qd-404" => {
            &["Giới thiệu Đề án đổi mới chương trình, sách giáo khoa theo Quyết định 404/QĐ-TTg"]
        }
        "de-an-dong-thap" => &[
            "Tuyên truyền Đề án nâng cao chất lượng giáo dục tỉnh Đồng Tháp giai đoạn 2016–2020",
            "Kết quả thực hiện Đề án nâng cao chất lượng giáo dục tại {school}",
        ],
        "kh-175-ubnd" => {
            &["Phổ biến Kế hoạch 175/KH-UBND của UBND huyện về nâng cao chất lượng giáo dục"]
        }
        "bien-phap-dot-pha" => {
            &["Giới thiệu giải pháp “đột phá” nâng cao tỷ lệ học sinh chuyên cần"]
        }
        "tai-lieu-huong-dan" => {
            &["Giới thiệu tài liệu hướng dẫn dạy học theo chương trình giáo dục phổ thông mới"]
        }
        "phat-trien-doi-ngu" => &[
            "Bồi dưỡng giáo viên đáp ứng yêu cầu chương trình giáo dục phổ thông 2018",
            "Tin bài: giáo viên {school} tham gia tập huấn chương trình mới",
        ],
        "chuan-bi-dieu-kien" => {
            &["Chuẩn bị cơ sở vật chất, thiết bị dạy học cho chương trình, sách giáo khoa mới"]
        }
        "qd-1501" => &[
            "Giáo dục lý tưởng cách mạng, đạo đức, lối sống cho học sinh theo Quyết định 1501/QĐ-TTg",
            "Hoạt động ngoại khóa “Em yêu quê hương Tam Nông”",
        ],
        "phat-trien-nang-luc" => {
            &["Chuyên đề dạy học theo định hướng phát triển năng lực học sinh"]
        }
        "huong-nghiep" => &[
            "Chuyên mục giáo dục hướng nghiệp, phân luồng học sinh sau THCS",
            "Tư vấn hướng nghiệp cho học sinh lớp 9 và phụ huynh",
        ],
        "trai-nghiem-sang-tao" => &[
            "Hoạt động trải nghiệm sáng tạo “Ngày hội đọc sách”",
            "Học sinh {school} trải nghiệm tại Vườn quốc gia Tràm Chim",
        ],
        "hoc-sinh-gioi" => &["Biểu dương học sinh đạt giải kỳ thi học sinh giỏi cấp huyện"],
        "ngoai-ngu" => &["Câu lạc bộ tiếng Anh và kết quả nâng cao chất lượng dạy học ngoại ngữ"],
        "pcgd-thcs" => {
            &["Tuyên truyền vận động học sinh bỏ học trở lại lớp, duy trì phổ cập giáo dục"]
        }
        "phong-trao-thi-dua" => &[
            "Phát động phong trào thi đua “Dạy tốt – học tốt” chào mừng ngày Nhà giáo Việt Nam 20/11",
            "Sơ kết phong trào thi đua học kỳ I",
        ],
        "khen-thuong" => &["Thông tin khen thưởng tập thể, cá nhân có thành tích trong năm học"],
        "ton-vinh-dien-hinh" => &[
            "Gương người tốt việc tốt: giáo viên {school} tận tụy với học trò vùng khó",
            "Giới thiệu mô hình “Nuôi heo đất giúp bạn đến trường”",
        ],
        "chuong-trinh-cchc" => {
            &["Tuyên truyền chương trình cải cách hành chính trong lĩnh vực giáo dục"]
        }
        "thu-tuc-hanh-chinh" => &[
            "Niêm yết, hướng dẫn thủ tục chuyển trường, xin học lại cho phụ huynh",
            "Hướng dẫn thủ tục tuyển sinh đầu cấp",
        ],
        "su-hai-long" => {
            &["Khảo sát sự hài lòng của cha mẹ học sinh về dịch vụ giáo dục của nhà trường"]
        }
        "chi-dao-dia-phuong" => &[
            "Tuyên truyền phòng chống đuối nước cho học sinh mùa nước nổi",
            "Tuyên truyền phòng, chống dịch bệnh trong trường học theo chỉ đạo của UBND xã",
            "Hưởng ứng ngày hội toàn dân bảo vệ an ninh Tổ quốc tại xã",
        ],
        _ => &["Hoạt động truyền thông của nhà trường"],
    }
}

/// A title, summary and audience for an activity.
pub fn activity(
    area: ContentArea,
    topic: &str,
    channel: Channel,
    school: &DemoSchool,
    rng: &mut Rng,
) -> (String, String, &'static str) {
    let title = rng.pick(titles(topic)).replace("{school}", school.name);
    let how = match channel {
        Channel::DistrictRadio => {
            "Phát trên chuyên mục giáo dục của Đài Truyền thanh huyện Tam Nông, thời lượng 10 phút."
        }
        Channel::LocalPress => {
            "Bài viết gửi Báo Đồng Tháp và Đài Phát thanh – Truyền hình Đồng Tháp."
        }
        Channel::CentralPress => "Bài viết đăng trên Báo Giáo dục và Thời đại.",
        Channel::Television => "Phóng sự phát trên Đài Phát thanh – Truyền hình Đồng Tháp.",
        Channel::SchoolPortal => "Đăng tin trên Cổng thông tin điện tử của trường.",
        Channel::Email => "Gửi thư điện tử đến cán bộ, giáo viên, nhân viên.",
        Channel::Facebook => "Đăng trên trang Facebook của trường, kèm hình ảnh hoạt động.",
        Channel::Hotline => "Thông báo số đường dây nóng để phụ huynh liên hệ.",
        Channel::ReporterVisit => "Đón tiếp phóng viên đến trường ghi hình, phỏng vấn.",
        Channel::Meeting => "Lồng ghép trong cuộc họp cha mẹ học sinh và sinh hoạt dưới cờ.",
        Channel::Other => "Tuyên truyền qua pano, áp phích tại cổng trường.",
    };
    let summary = format!(
        "{how} Nội dung: {} ({}).",
        title.to_lowercase(),
        area.label_vi().to_lowercase()
    );
    let audience = match (channel, school.level) {
        (Channel::Email, _) => "Cán bộ, giáo viên, nhân viên",
        (Channel::Meeting, Level::MamNon) => "Cha mẹ trẻ",
        (Channel::Meeting, _) => "Cha mẹ học sinh và học sinh",
        (Channel::DistrictRadio | Channel::LocalPress | Channel::Television, _) => {
            "Nhân dân trong huyện"
        }
        _ => "Phụ huynh và nhân dân trong xã",
    };
    (title, summary, audience)
}

pub fn channel_for(area: ContentArea, rng: &mut Rng) -> Channel {
    let common = [
        Channel::SchoolPortal,
        Channel::SchoolPortal,
        Channel::Facebook,
        Channel::Facebook,
        Channel::Meeting,
        Channel::DistrictRadio,
        Channel::Email,
    ];
    match area {
        ContentArea::StateManagement | ContentArea::CurriculumReform if rng.chance(0.2) => *rng
            .pick(&[
                Channel::DistrictRadio,
                Channel::LocalPress,
                Channel::Television,
            ]),
        ContentArea::EmulationCommendation if rng.chance(0.15) => Channel::CentralPress,
        _ if rng.chance(0.03) => Channel::ReporterVisit,
        _ if rng.chance(0.03) => Channel::Other,
        _ => *rng.pick(&common),
    }
}

pub fn responsible_for(channel: Channel, rng: &mut Rng) -> Role {
    match channel {
        Channel::SchoolPortal if rng.chance(0.6) => Role::DepartmentHead,
        Channel::Meeting if rng.chance(0.3) => Role::Principal,
        Channel::Meeting if rng.chance(0.3) => Role::Teacher,
        _ => Role::VicePrincipal,
    }
}

pub fn reach(channel: Channel, level: Level, rng: &mut Rng) -> u32 {
    let base = match channel {
        Channel::DistrictRadio
        | Channel::LocalPress
        | Channel::Television
        | Channel::CentralPress => 2_000,
        Channel::Facebook | Channel::SchoolPortal => 300,
        Channel::Meeting => match level {
            Level::MamNon => 80,
            _ => 250,
        },
        Channel::Email => 40,
        _ => 60,
    };
    base / 2 + rng.below(u64::from(base)) as u32
}

pub fn partner(channel: Channel) -> &'static str {
    match channel {
        Channel::DistrictRadio => "Đài Truyền thanh huyện Tam Nông",
        Channel::LocalPress | Channel::Television => "Đài Phát thanh – Truyền hình Đồng Tháp",
        Channel::CentralPress => "Báo Giáo dục và Thời đại",
        Channel::Meeting => "Ban đại diện cha mẹ học sinh",
        _ => "",
    }
}

/// A citizen's question: subject, content, content area.
pub fn feedback(school: &DemoSchool, rng: &mut Rng) -> (&'static str, &'static str, u8) {
    let cases: &[(&str, &str, u8)] = &[
        (
            "Hỏi về các khoản thu đầu năm học",
            "Đề nghị nhà trường công khai các khoản thu, khoản vận động đầu năm học.",
            5,
        ),
        (
            "Thủ tục chuyển trường cho con",
            "Gia đình chuyển nơi ở, xin hướng dẫn thủ tục chuyển trường cho cháu.",
            5,
        ),
        (
            "Phản ánh xe đưa rước học sinh",
            "Xe đưa rước học sinh đi nhanh qua đoạn đường đê bao, đề nghị nhà trường nhắc nhở.",
            6,
        ),
        (
            "Hỏi về sách giáo khoa mới",
            "Năm học tới con học sách giáo khoa nào, phụ huynh mua ở đâu?",
            2,
        ),
        (
            "Góp ý giờ đón trẻ",
            "Đề nghị nhà trường mở cửa đón trẻ sớm hơn vào mùa thu hoạch lúa.",
            6,
        ),
        (
            "Hỏi về học bổng cho học sinh nghèo",
            "Gia đình khó khăn, xin hỏi điều kiện nhận học bổng của Hội Khuyến học.",
            4,
        ),
        (
            "Phản ánh dạy thêm",
            "Phụ huynh phản ánh một số giáo viên vận động học sinh học thêm.",
            1,
        ),
        (
            "Hỏi về tuyển sinh lớp 6",
            "Xin hỏi thời gian, hồ sơ tuyển sinh vào lớp 6.",
            5,
        ),
    ];
    let (subject, content, area) = *rng.pick(cases);
    // A preschool has no "lớp 6"; fall back to the fees question there.
    if school.level == Level::MamNon && subject.contains("lớp 6") {
        return (cases[0].0, cases[0].1, cases[0].2);
    }
    (subject, content, area)
}

pub fn feedback_answer(subject: &str) -> &'static str {
    if subject.contains("khoản thu") {
        "Nhà trường đã công khai các khoản thu tại cuộc họp cha mẹ học sinh và trên bảng tin của trường."
    } else if subject.contains("chuyển trường") || subject.contains("tuyển sinh") {
        "Nhà trường đã hướng dẫn phụ huynh hồ sơ, thủ tục theo quy định và niêm yết tại bộ phận văn phòng."
    } else {
        "Nhà trường đã tiếp nhận, kiểm tra và trả lời trực tiếp phụ huynh; đồng thời chấn chỉnh trong cuộc họp hội đồng."
    }
}

/// A press issue: outlet, title, summary, area.
pub fn press_issue(school: &DemoSchool, rng: &mut Rng) -> (&'static str, String, &'static str, u8) {
    let outlets = [
        "Báo Đồng Tháp",
        "Đài Phát thanh – Truyền hình Đồng Tháp",
        "Báo Giáo dục và Thời đại",
        "Báo Tuổi Trẻ",
    ];
    let cases: &[(&str, &str, u8)] = &[
        (
            "Phụ huynh phản ánh tình trạng lạm thu đầu năm tại {school}",
            "Bài báo nêu ý kiến phụ huynh về các khoản vận động đầu năm học.",
            5,
        ),
        (
            "Học sinh vùng lũ đến trường bằng xuồng",
            "Phóng sự về khó khăn của học sinh mùa nước nổi và giải pháp của nhà trường.",
            3,
        ),
        (
            "Cơ sở vật chất xuống cấp tại điểm lẻ của {school}",
            "Bài viết phản ánh phòng học điểm lẻ bị dột, thiếu bàn ghế.",
            2,
        ),
        (
            "Gương cô giáo vượt khó ở {school}",
            "Bài viết giới thiệu tấm gương giáo viên tận tụy với học sinh nghèo.",
            4,
        ),
    ];
    let (title, summary, area) = *rng.pick(cases);
    (
        *rng.pick(&outlets),
        title.replace("{school}", school.name),
        summary,
        area,
    )
}

pub fn achievement(rng: &mut Rng) -> &'static str {
    const ACHIEVEMENTS: &[&str] = &[
        "Viết và biên tập hơn 20 tin bài cho Cổng thông tin điện tử của trường trong năm học.",
        "Phối hợp tốt với Đài Truyền thanh huyện thực hiện chuyên mục giáo dục hằng tháng.",
        "Kịp thời trả lời ý kiến phụ huynh qua đường dây nóng, không để tồn đọng.",
        "Tổ chức hiệu quả các hoạt động trải nghiệm, được phụ huynh và địa phương đánh giá cao.",
        "Vận động 12 học sinh bỏ học trở lại lớp, góp phần duy trì phổ cập giáo dục.",
    ];
    rng.pick::<&str>(ACHIEVEMENTS)
}
