//! Reading the text of a plan: the header block, the title, the legal bases, the sections.
//!
//! The document is read line by line (a line is a paragraph). Sections are told apart by what
//! their headings say, not by their numbers: the seed numbers two sections "II.", and other
//! plans number them "1./2./3." or not at all.

use chrono::{Datelike, NaiveDate};
use domain::codes::Slug;
use domain::roles::{ContentArea, Role};

use crate::citation::{find_citations, read_citation};
use crate::text::{
    Cleaning, DateText, Folded, MAX_CODE, Numbering, agency_case, capitalise_first, clean_line,
    date_after_ngay, excerpt, find_word, is_rule, is_upper, slug, split_numbering,
    starts_with_word, trim_end_of,
};
use crate::{
    BasisSource, Note, ProposedArea, ProposedBasis, ProposedDuties, ProposedPlan, ProposedTopic,
    Reading, Unread,
};

/// Longest heading of a content area or a role, in characters.
const MAX_HEADING: usize = 160;
/// Most notes kept; a text that is no plan would otherwise get one per paragraph.
const MAX_NOTES: usize = 200;
/// How far into the document the "KẾ HOẠCH" line is looked for, in lines.
const HEADER_LINES: usize = 40;

/// Reads a plan from its text. Never fails: what could not be read is in
/// [`Reading::unread`].
pub fn read_text(text: &str) -> Reading {
    let mut cleaning = Cleaning::default();
    let lines: Vec<Line> = text
        .split(['\n', '\r', '\u{b}', '\u{c}', '\u{2028}', '\u{2029}'])
        .map(|raw| clean_line(raw, &mut cleaning))
        .filter(|line| !line.is_empty())
        .map(Line::new)
        .collect();
    let mut reader = Reader::default();
    if cleaning.invisible > 0 {
        reader.note(
            "document",
            format!(
                "Đã bỏ {} ký tự định dạng vô hình (khoảng trắng không độ rộng, dấu BOM …) khỏi văn bản.",
                cleaning.invisible
            ),
        );
    }
    if cleaning.control > 0 {
        reader.note(
            "document",
            format!(
                "Đã bỏ {} ký tự điều khiển không hiển thị khỏi văn bản.",
                cleaning.control
            ),
        );
    }
    reader.read(&lines);
    reader.finish()
}

/// A cleaned line and its folded form.
#[derive(Debug)]
struct Line {
    text: String,
    folded: String,
}

impl Line {
    fn new(text: String) -> Self {
        let folded = domain::district::fold_vietnamese(&text);
        Self { text, folded }
    }
}

/// The sections of a plan, by what their headings say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the first heading: the "Căn cứ" paragraphs and the introduction.
    Preamble,
    Bases,
    Purposes,
    Requirements,
    PurposesAndRequirements,
    Content,
    Duties,
    Other,
}

fn section_of(folded_heading: &str) -> Section {
    let h = folded_heading;
    if h.contains("to chuc thuc hien")
        || starts_with_word(h, "trach nhiem")
        || starts_with_word(h, "phan cong")
    {
        Section::Duties
    } else if starts_with_word(h, "can cu") {
        Section::Bases
    } else if h.contains("muc dich") && h.contains("yeu cau") {
        Section::PurposesAndRequirements
    } else if h.contains("muc dich") {
        Section::Purposes
    } else if starts_with_word(h, "yeu cau") {
        Section::Requirements
    } else if h.contains("noi dung") {
        Section::Content
    } else {
        Section::Other
    }
}

/// The top-level section a line heads, if it is a heading: "II. NỘI DUNG …", "2. NỘI DUNG",
/// "TỔ CHỨC THỰC HIỆN".
fn top_heading(line: &Line) -> Option<Section> {
    let (numbering, rest) = split_numbering(&line.text);
    if rest.chars().count() > MAX_HEADING {
        return None;
    }
    let folded = domain::district::fold_vietnamese(rest);
    let section = section_of(&folded);
    let heading = match numbering {
        Numbering::Roman(_) => true,
        Numbering::Arabic { depth: 1, .. } => is_upper(rest),
        Numbering::None => is_upper(rest) && section != Section::Other,
        _ => false,
    };
    heading.then_some(section)
}

/// Whether a line ends the plan: "Trên đây là kế hoạch …", "Nơi nhận:".
fn is_closing(line: &Line) -> bool {
    starts_with_word(&line.folded, "tren day la") || starts_with_word(&line.folded, "noi nhan")
}

/// The area a heading names, by its wording.
fn area_named(folded_title: &str) -> Option<ContentArea> {
    let t = folded_title;
    if t.contains("quan ly nha nuoc") {
        Some(ContentArea::StateManagement)
    } else if t.contains("chuong trinh") && (t.contains("sach giao khoa") || t.contains("sgk")) {
        Some(ContentArea::CurriculumReform)
    } else if t.contains("thi dua") || t.contains("khen thuong") {
        Some(ContentArea::EmulationCommendation)
    } else if t.contains("cai cach hanh chinh") || t.contains("su hai long") {
        Some(ContentArea::AdministrativeReform)
    } else if t.contains("noi dung khac") {
        Some(ContentArea::Other)
    } else if starts_with_word(t, "nhiem vu") {
        Some(ContentArea::Tasks)
    } else {
        None
    }
}

/// Roles as headings of "Tổ chức thực hiện" name them, folded, longest first.
const ROLE_NAMES: [(&str, Role); 16] = [
    ("pho hieu truong", Role::VicePrincipal),
    ("hieu truong", Role::Principal),
    ("to truong chuyen mon", Role::DepartmentHead),
    ("to truong", Role::DepartmentHead),
    ("to chuyen mon", Role::DepartmentHead),
    ("to van phong", Role::OfficeTeam),
    ("bo phan van phong", Role::OfficeTeam),
    ("van phong", Role::OfficeTeam),
    ("ban chap hanh cong doan", Role::TradeUnion),
    ("cong doan", Role::TradeUnion),
    ("giao vien chu nhiem", Role::Teacher),
    ("giao vien", Role::Teacher),
    ("can bo, giao vien", Role::Teacher),
    ("can bo giao vien", Role::Teacher),
    ("nhan vien", Role::Teacher),
    ("phong gd", Role::DistrictOffice),
];

/// The role a text begins with and the length (bytes of `text`) of the name.
fn role_prefix(text: &str) -> Option<(Role, usize)> {
    let folded = Folded::new(text);
    let mut from = 0;
    for lead in ["cac ", "doi voi ", "moi "] {
        if folded.text[from..].starts_with(lead) {
            from += lead.len();
        }
    }
    ROLE_NAMES.iter().find_map(|(name, role)| {
        let rest = folded.text.get(from..)?;
        starts_with_word(rest, name).then(|| (*role, folded.at(from + name.len())))
    })
}

/// A heading of "Tổ chức thực hiện": the roles it names (`None` for a name that is no role)
/// and the duty written on the same line.
struct RoleHeading {
    roles: Vec<Option<Role>>,
    inline: Option<String>,
}

fn role_heading(numbering: &Numbering, rest: &str) -> Option<RoleHeading> {
    let numbered = matches!(
        numbering,
        Numbering::Arabic { .. } | Numbering::Letter(_) | Numbering::Roman(_)
    );
    let inline_of = |s: &str| {
        let s = s.trim().trim_start_matches([',', '-', '–', ':']).trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    if let Some(colon) = rest.find(':') {
        let name = rest[..colon].trim();
        if name.chars().count() <= 80 && name.split_whitespace().count() <= 12 {
            let parts: Vec<&str> = split_names(name);
            let roles: Vec<Option<Role>> = parts
                .iter()
                .map(|p| {
                    role_prefix(p)
                        .filter(|(_, len)| p[*len..].split_whitespace().count() <= 3)
                        .map(|(r, _)| r)
                })
                .collect();
            if roles.iter().all(Option::is_some) && !roles.is_empty() {
                return Some(RoleHeading {
                    roles,
                    inline: inline_of(&rest[colon + 1..]),
                });
            }
            if numbered {
                return Some(RoleHeading {
                    roles: vec![None],
                    inline: inline_of(&rest[colon + 1..]),
                });
            }
        }
        return None;
    }
    if matches!(numbering, Numbering::Bullet) {
        return None;
    }
    if let Some((role, len)) = role_prefix(rest) {
        return Some(RoleHeading {
            roles: vec![Some(role)],
            inline: inline_of(&rest[len..]),
        });
    }
    let short = rest.chars().count() <= 60 && !rest.ends_with('.');
    (numbered && short).then(|| RoleHeading {
        roles: vec![None],
        inline: None,
    })
}

/// "Phó Hiệu trưởng và Tổ trưởng chuyên môn" → the two names.
fn split_names(name: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for part in name.split([',', ';']) {
        let mut rest = part;
        while let Some(at) = find_word(rest, "và", 0) {
            parts.push(rest[..at.0].trim());
            rest = &rest[at.1..];
        }
        parts.push(rest.trim());
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// How the areas of the content section are numbered, once the first is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AreaStyle {
    Arabic(usize),
    Letter,
    Unnumbered,
}

/// A content area while reading: topics are titles until codes are generated.
#[derive(Debug)]
struct AreaDraft {
    heading: String,
    area: Option<ContentArea>,
    title: String,
    topics: Vec<String>,
    /// The number written on the heading.
    number: Option<u32>,
}

#[derive(Debug, Default)]
struct Reader {
    areas: Vec<AreaDraft>,
    plan: ProposedPlan,
    unread: Vec<Unread>,
    notes: Vec<Note>,
    /// A number or date written but not valid, for the unread list.
    invalid_number: Option<String>,
    invalid_date: Option<String>,
    saw_content: bool,
    saw_duties: bool,
    saw_purposes: bool,
}

impl Reader {
    fn note(&mut self, field: &str, message: String) {
        self.notes.push(Note {
            field: field.to_string(),
            message,
        });
    }

    fn unread(&mut self, field: &str, message: String, found: Option<String>) {
        self.unread.push(Unread {
            field: field.to_string(),
            message,
            found,
        });
    }

    fn read(&mut self, lines: &[Line]) {
        let kind_line = lines.iter().take(HEADER_LINES).position(|l| {
            l.folded == "ke hoach" || (is_upper(&l.text) && starts_with_word(&l.folded, "ke hoach"))
        });
        let body_start = match kind_line {
            Some(at) => {
                self.read_header(&lines[..at]);
                at + 1 + self.read_title(&lines[at], &lines[at + 1..])
            }
            None => {
                // No "KẾ HOẠCH" line: the header runs to the first "Căn cứ" or heading.
                let end = lines
                    .iter()
                    .take(HEADER_LINES)
                    .position(|l| starts_with_word(&l.folded, "can cu") || top_heading(l).is_some())
                    .unwrap_or(0);
                self.read_header(&lines[..end]);
                end
            }
        };
        self.read_body(&lines[body_start..]);
    }

    /// The header block: agencies in capitals (parent first), the motto, "Số: …", the place
    /// and date line. The two columns may come in either order.
    fn read_header(&mut self, lines: &[Line]) {
        let mut agencies: Vec<&str> = Vec::new();
        for line in lines {
            let f = &line.folded;
            if f.contains("cong hoa xa hoi chu nghia viet nam")
                || f.contains("doc lap - tu do - hanh phuc")
                || f.contains("doc lap – tu do – hanh phuc")
                || is_rule(&line.text)
            {
                continue;
            }
            let mut rest: &str = &line.text;
            if starts_with_word(f, "so")
                && self.plan.number.is_none()
                && self.invalid_number.is_none()
            {
                let after = rest[rest
                    .find(|c: char| c == ':' || c.is_whitespace())
                    .unwrap_or(rest.len())..]
                    .trim_start_matches([':', ' ']);
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                let written = trim_end_of(&after[..end], &['.', ',', ';']);
                match domain::plan::document_number("number", written) {
                    Ok(number) => self.plan.number = Some(number),
                    Err(_) => self.invalid_number = Some(written.to_string()),
                }
                rest = after[end..].trim();
                if rest.is_empty() {
                    continue;
                }
            }
            let folded_rest = Folded::new(rest);
            // "An Hòa, ngày 20 tháng 10 năm 2017": the place, then the date.
            if let Some((start, end)) = folded_rest.find_word("ngay", 0)
                && self.plan.date.is_none()
                && self.invalid_date.is_none()
                && (start > 0 || starts_with_word(f, "ngay"))
            {
                match date_after_ngay(&rest[folded_rest.at(end)..]) {
                    Some((DateText::Valid(d), _)) => self.plan.date = Some(d),
                    Some((DateText::Invalid(written), _)) => self.invalid_date = Some(written),
                    // A draft's "ngày   tháng 10 năm 2019": no day written.
                    None => self.invalid_date = Some(rest[folded_rest.at(start)..].to_string()),
                }
                let place = trim_end_of(&rest[..folded_rest.at(start)], &[',']);
                if !place.is_empty() {
                    self.plan.place = Some(place.to_string());
                }
                continue;
            }
            if is_upper(rest) {
                agencies.push(rest);
            } else {
                self.note(
                    "document",
                    format!(
                        "Dòng “{}” ở phần đầu văn bản không được đọc.",
                        excerpt(rest, 80)
                    ),
                );
            }
        }
        let converted = "đã chuyển từ chữ in hoa sang cách viết thường; xin kiểm tra các chữ viết hoa (tên riêng, chữ viết tắt).";
        if let Some((issuer, parents)) = agencies.split_last() {
            self.plan.issuer = Some(agency_case(issuer));
            self.note("issuer", format!("Tên cơ quan ban hành {converted}"));
            if !parents.is_empty() {
                self.plan.parent_agency = Some(agency_case(&parents.join(" ")));
                self.note("parent_agency", format!("Tên cơ quan chủ quản {converted}"));
            }
        }
    }

    /// The title after "KẾ HOẠCH": the rest of that line and the lines up to a rule, a "Căn cứ"
    /// or a heading. Returns how many lines it took after the "KẾ HOẠCH" line.
    fn read_title(&mut self, kind_line: &Line, after: &[Line]) -> usize {
        let mut parts: Vec<String> = Vec::new();
        let on_kind_line = kind_line
            .text
            .chars()
            .skip("KẾ HOẠCH".chars().count())
            .collect::<String>();
        let on_kind_line = on_kind_line.trim();
        if !on_kind_line.is_empty() {
            parts.push(on_kind_line.to_string());
        }
        let mut taken = 0;
        for line in after.iter().take(4) {
            if is_rule(&line.text) {
                taken += 1;
                break;
            }
            let (_, rest) = split_numbering(&line.text);
            if starts_with_word(&domain::district::fold_vietnamese(rest), "can cu")
                || top_heading(line).is_some()
                || parts.len() >= 3
                || line.text.ends_with(':')
            {
                break;
            }
            parts.push(line.text.clone());
            taken += 1;
        }
        if parts.is_empty() {
            return taken;
        }
        let title = parts.join(" ");
        if is_upper(&title) {
            self.note(
                "title",
                "Tên kế hoạch đã chuyển từ chữ in hoa sang cách viết thường; xin kiểm tra các chữ viết hoa (tên riêng, chữ viết tắt).".to_string(),
            );
            self.plan.title = Some(sentence_case(&title));
        } else {
            self.plan.title = Some(title);
        }
        taken
    }

    fn read_body(&mut self, lines: &[Line]) {
        let mut section = Section::Preamble;
        let mut heading = String::new();
        // Purposes and requirements under one heading: which one the lines go to.
        let mut target: Option<Section> = None;
        let mut purposes: Vec<String> = Vec::new();
        let mut requirements: Vec<String> = Vec::new();
        let mut area_style: Option<AreaStyle> = None;
        let mut current_area: Option<usize> = None;
        let mut current_duties: Vec<usize> = Vec::new();
        let mut skipped = 0_usize;
        for line in lines {
            if is_closing(line) {
                break;
            }
            if let Some(next) = top_heading(line) {
                self.end_section(section, &heading, skipped);
                section = next;
                heading = line.text.clone();
                skipped = 0;
                target = match next {
                    Section::Purposes => Some(Section::Purposes),
                    Section::Requirements => Some(Section::Requirements),
                    _ => None,
                };
                current_area = None;
                current_duties.clear();
                self.saw_content |= next == Section::Content;
                self.saw_duties |= next == Section::Duties;
                self.saw_purposes |=
                    matches!(next, Section::Purposes | Section::PurposesAndRequirements);
                continue;
            }
            let (numbering, rest) = split_numbering(&line.text);
            match section {
                Section::Preamble => {
                    if starts_with_word(&domain::district::fold_vietnamese(rest), "can cu") {
                        self.push_basis(rest);
                    } else if !line.folded.contains("nhu sau") {
                        self.note(
                            "document",
                            format!(
                                "Đoạn “{}” ở phần mở đầu không được đọc.",
                                excerpt(&line.text, 80)
                            ),
                        );
                    }
                }
                Section::Bases => self.push_basis(rest),
                Section::Purposes | Section::Requirements | Section::PurposesAndRequirements => {
                    let folded_rest = domain::district::fold_vietnamese(rest);
                    let sub = !matches!(numbering, Numbering::None | Numbering::Bullet);
                    let named = if starts_with_word(&folded_rest, "muc dich") {
                        Some(Section::Purposes)
                    } else if starts_with_word(&folded_rest, "yeu cau") {
                        Some(Section::Requirements)
                    } else {
                        None
                    };
                    if let (true, Some(named)) = (sub, named) {
                        target = Some(named);
                        // "1. Mục đích: Đẩy mạnh …": text after the colon belongs to it.
                        let inline = rest
                            .split_once(':')
                            .map(|(_, t)| t.trim())
                            .filter(|t| !t.is_empty());
                        if let Some(text) = inline {
                            let list = if named == Section::Purposes {
                                &mut purposes
                            } else {
                                &mut requirements
                            };
                            list.push(text.to_string());
                        }
                        continue;
                    }
                    if target.is_none() {
                        target = Some(Section::Purposes);
                        self.note(
                            "purposes",
                            format!(
                                "Phần “{}” không tách riêng mục đích và yêu cầu: các đoạn đầu được xếp vào mục đích, xin kiểm tra.",
                                excerpt(&heading, 60)
                            ),
                        );
                    }
                    match target {
                        Some(Section::Requirements) => requirements.push(line.text.clone()),
                        _ => purposes.push(line.text.clone()),
                    }
                }
                Section::Content => {
                    if let Some((area, title)) = area_heading(&numbering, rest, area_style) {
                        let style = match numbering {
                            Numbering::Arabic { depth, .. } => AreaStyle::Arabic(depth),
                            Numbering::Letter(_) => AreaStyle::Letter,
                            _ => AreaStyle::Unnumbered,
                        };
                        area_style.get_or_insert(style);
                        let number = match numbering {
                            Numbering::Arabic { last, .. } => Some(last),
                            Numbering::Letter(c) => Some(u32::from(c) - u32::from('a') + 1),
                            _ => None,
                        };
                        current_area = Some(self.areas.len());
                        self.areas.push(AreaDraft {
                            heading: line.text.clone(),
                            area,
                            title,
                            topics: Vec::new(),
                            number,
                        });
                        continue;
                    }
                    let text = topic_title(rest);
                    let Some(index) = current_area else {
                        self.note(
                            "content_areas",
                            format!(
                                "Đoạn “{}” đứng trước mục nội dung đầu tiên nên không được đọc.",
                                excerpt(&line.text, 80)
                            ),
                        );
                        continue;
                    };
                    if rest.ends_with(':') {
                        self.note(
                            &format!("content_areas[{index}]"),
                            format!("Câu dẫn “{}” không được lấy làm chủ đề.", excerpt(rest, 80)),
                        );
                        continue;
                    }
                    if !text.is_empty()
                        && let Some(area) = self.areas.get_mut(index)
                    {
                        area.topics.push(text);
                    }
                }
                Section::Duties => {
                    if let Some(found) = role_heading(&numbering, rest)
                        && (matches!(
                            numbering,
                            Numbering::Arabic { .. } | Numbering::Letter(_) | Numbering::Roman(_)
                        ) || rest.contains(':')
                            || current_duties.is_empty())
                    {
                        current_duties.clear();
                        if found.roles.len() > 1 {
                            self.note(
                                &format!("duties[{}]", self.plan.duties.len()),
                                format!("Mục “{}” nêu nhiều vai trò: nhiệm vụ được ghi cho từng vai trò.", excerpt(&line.text, 80)),
                            );
                        }
                        for role in found.roles {
                            current_duties.push(self.plan.duties.len());
                            self.plan.duties.push(ProposedDuties {
                                heading: line.text.clone(),
                                role,
                                duties: found.inline.iter().map(|d| duty_text(d)).collect(),
                            });
                        }
                        continue;
                    }
                    if current_duties.is_empty() {
                        self.note(
                            "duties",
                            format!(
                                "Đoạn “{}” không thuộc vai trò nào nên không được đọc.",
                                excerpt(&line.text, 80)
                            ),
                        );
                        continue;
                    }
                    let duty = duty_text(rest);
                    for &index in &current_duties {
                        if let Some(d) = self.plan.duties.get_mut(index) {
                            d.duties.push(duty.clone());
                        }
                    }
                }
                Section::Other => skipped += 1,
            }
        }
        self.end_section(section, &heading, skipped);
        if !purposes.is_empty() {
            self.plan.purposes = Some(purposes.join("\n"));
        }
        if !requirements.is_empty() {
            self.plan.requirements = Some(requirements.join("\n"));
        }
    }

    fn end_section(&mut self, section: Section, heading: &str, skipped: usize) {
        if section == Section::Other {
            self.note(
                "document",
                format!(
                    "Phần “{}” ({skipped} đoạn) không thuộc trường nào của kế hoạch nên không được đọc.",
                    excerpt(heading, 80)
                ),
            );
        }
    }

    fn push_basis(&mut self, text: &str) {
        let folded = Folded::new(text);
        let body = if starts_with_word(&folded.text, "can cu") {
            text[folded.at("can cu".len())..].trim_start()
        } else {
            text
        };
        let basis = basis_of(body, text, BasisSource::Preamble);
        if basis.1 {
            self.note(
                &format!("legal_bases[{}].issuer", self.plan.legal_bases.len()),
                "Văn bản viết liền tên cơ quan với chữ “Về”; đã tách tại chữ “Về”, xin kiểm tra."
                    .to_string(),
            );
        }
        self.plan.legal_bases.push(basis.0);
    }

    /// Documents cited in the plan's text, proposed as legal bases after those of the
    /// preamble, once each (the same leading number and date is the same document).
    fn add_cited(&mut self) {
        let mut sources: Vec<(String, String)> = Vec::new();
        if let Some(p) = &self.plan.purposes {
            sources.push(("purposes".into(), p.clone()));
        }
        if let Some(r) = &self.plan.requirements {
            sources.push(("requirements".into(), r.clone()));
        }
        for (i, area) in self.areas.iter().enumerate() {
            for topic in &area.topics {
                sources.push((format!("content_areas[{i}]"), topic.clone()));
            }
        }
        for (i, d) in self.plan.duties.iter().enumerate() {
            for duty in &d.duties {
                sources.push((format!("duties[{i}]"), duty.clone()));
            }
        }
        for (field, text) in sources {
            for clause in find_citations(&text) {
                let (basis, _) = basis_of(
                    &clause,
                    &clause,
                    BasisSource::Cited {
                        field: field.clone(),
                    },
                );
                let (Some(number), Some(date)) = (&basis.number, basis.date) else {
                    continue;
                };
                let key = leading_number(number);
                let known = self.plan.legal_bases.iter().any(|b| {
                    b.date == Some(date) && b.number.as_deref().map(leading_number) == Some(key)
                });
                if known {
                    continue;
                }
                self.note(
                    &format!("legal_bases[{}]", self.plan.legal_bases.len()),
                    format!(
                        "Văn bản {number} được trích dẫn trong phần nội dung ({}), không nằm trong các đoạn “Căn cứ”; đề xuất đưa vào căn cứ, xin xác nhận.",
                        field_label(&field)
                    ),
                );
                self.plan.legal_bases.push(basis);
            }
        }
    }

    fn read_period(&mut self) {
        let Some(title) = self.plan.title.clone() else {
            return;
        };
        let Some(found) = period_in(&title) else {
            return;
        };
        self.plan.period.written = Some(found.written.clone());
        let (first, last) = found.bounds;
        let start = match self.plan.date {
            Some(date) if first <= date && date <= last => {
                self.note(
                    "period.start",
                    format!(
                        "Văn bản chỉ ghi “{}”: ngày bắt đầu lấy là ngày ban hành {}, xin kiểm tra.",
                        found.written,
                        domain::vi::date(date)
                    ),
                );
                date
            }
            _ => {
                self.note(
                    "period.start",
                    format!(
                        "Văn bản chỉ ghi “{}”: ngày bắt đầu lấy là {}, xin kiểm tra.",
                        found.written,
                        domain::vi::date(first)
                    ),
                );
                first
            }
        };
        self.note(
            "period.end",
            format!(
                "Văn bản chỉ ghi “{}”: ngày kết thúc lấy là {}, xin kiểm tra.",
                found.written,
                domain::vi::date(last)
            ),
        );
        self.plan.period.start = Some(start);
        self.plan.period.end = Some(last);
    }

    /// The areas with their topics' codes: a slug of the title, unique within the area.
    fn generate_codes(&mut self) {
        for (i, draft) in std::mem::take(&mut self.areas).into_iter().enumerate() {
            let mut topics: Vec<ProposedTopic> = Vec::new();
            for (j, title) in draft.topics.into_iter().enumerate() {
                let mut base = slug(&title, MAX_CODE);
                if base.is_empty() {
                    base = format!("chu-de-{}", j + 1);
                }
                let mut code = base.clone();
                let mut n = 2;
                while topics.iter().any(|t| t.code.as_str() == code) {
                    let suffix = format!("-{n}");
                    code = format!("{}{suffix}", slug(&base, MAX_CODE - suffix.len()));
                    n += 1;
                }
                match Slug::parse(&format!("content_areas[{i}].topics[{j}].code"), &code) {
                    Ok(code) => topics.push(ProposedTopic { code, title }),
                    Err(e) => self.unread.push(Unread {
                        field: e.field.clone(),
                        message: e.vietnamese(),
                        found: Some(title),
                    }),
                }
            }
            if !topics.is_empty() {
                self.notes.push(Note {
                    field: format!("content_areas[{i}].topics"),
                    message: "Văn bản không ghi mã chủ đề: mã được tạo từ tiêu đề chủ đề, xin kiểm tra hoặc đặt mã ngắn gọn hơn.".to_string(),
                });
            }
            self.plan.content_areas.push(ProposedArea {
                heading: draft.heading,
                area: draft.area,
                title: draft.title,
                topics,
            });
        }
    }

    /// Areas named twice are merged; roles named twice too (the plan holds each once).
    fn merge_duplicates(&mut self) {
        let mut merged: Vec<AreaDraft> = Vec::new();
        for area in std::mem::take(&mut self.areas) {
            match merged
                .iter_mut()
                .find(|a| a.area.is_some() && a.area == area.area)
            {
                Some(existing) => {
                    self.notes.push(Note {
                        field: "content_areas".into(),
                        message: format!(
                            "Mục “{}” trùng nội dung với mục “{}”: các chủ đề được gộp vào mục trước.",
                            excerpt(&area.heading, 60),
                            excerpt(&existing.heading, 60)
                        ),
                    });
                    existing.topics.extend(area.topics);
                }
                None => merged.push(area),
            }
        }
        self.areas = merged;
        let mut duties: Vec<ProposedDuties> = Vec::new();
        for d in std::mem::take(&mut self.plan.duties) {
            match duties
                .iter_mut()
                .find(|x| x.role.is_some() && x.role == d.role)
            {
                Some(existing) => {
                    self.notes.push(Note {
                        field: "duties".into(),
                        message: format!(
                            "Vai trò của mục “{}” đã có ở mục “{}”: các nhiệm vụ được gộp.",
                            excerpt(&d.heading, 60),
                            excerpt(&existing.heading, 60)
                        ),
                    });
                    existing.duties.extend(d.duties);
                }
                None => duties.push(d),
            }
        }
        self.plan.duties = duties;
    }

    fn finish(mut self) -> Reading {
        self.read_period();
        // Areas read by number only, before merging (the numbers are per heading).
        for (i, area) in self.areas.iter().enumerate() {
            let named = area_named(&domain::district::fold_vietnamese(&area.title));
            let number = area.number;
            match (named, area.area) {
                (None, Some(a)) => self.notes.push(Note {
                    field: format!("content_areas[{i}].area"),
                    message: format!(
                        "Tiêu đề “{}” không nêu rõ nội dung nào; đã xếp theo số thứ tự vào nội dung {} ({}), xin kiểm tra.",
                        excerpt(&area.title, 60),
                        a.number(),
                        a.label_vi()
                    ),
                }),
                (Some(a), _) if number.is_some_and(|n| n != u32::from(a.number())) => {
                    self.notes.push(Note {
                        field: format!("content_areas[{i}].area"),
                        message: format!(
                            "Mục “{}” mang số {} nhưng tiêu đề khớp nội dung {} ({}); đã xếp theo tiêu đề.",
                            excerpt(&area.heading, 60),
                            number.unwrap_or_default(),
                            a.number(),
                            a.label_vi()
                        ),
                    });
                }
                _ => {}
            }
        }
        self.merge_duplicates();
        self.add_cited();
        self.generate_codes();
        self.collect_unread();
        if self.notes.len() > MAX_NOTES {
            let more = self.notes.len() - MAX_NOTES;
            self.notes.truncate(MAX_NOTES);
            self.note(
                "document",
                format!("Còn {more} ghi chú khác không được liệt kê."),
            );
        }
        let mut unread = std::mem::take(&mut self.unread);
        unread.sort_by_key(|u| field_order(&u.field));
        Reading {
            proposal: self.plan,
            unread,
            notes: self.notes,
        }
    }

    /// What is missing from the proposal, field by field.
    fn collect_unread(&mut self) {
        let plan = self.plan.clone();
        match (&plan.number, self.invalid_number.take()) {
            (Some(_), _) => {}
            (None, Some(written)) => self.unread(
                "number",
                format!("Số và ký hiệu “{written}” không đúng dạng (ví dụ 114/KH-THCSAH)."),
                Some(written),
            ),
            (None, None) => self.unread(
                "number",
                "Không tìm thấy số và ký hiệu của kế hoạch (dòng “Số: …/KH-…”).".into(),
                None,
            ),
        }
        if plan.issuer.is_none() {
            self.unread(
                "issuer",
                "Không tìm thấy tên cơ quan ban hành (dòng chữ in hoa ở góc trên bên trái).".into(),
                None,
            );
        }
        if plan.parent_agency.is_none() {
            self.unread(
                "parent_agency",
                "Không tìm thấy tên cơ quan chủ quản (dòng chữ in hoa phía trên tên cơ quan ban hành).".into(),
                None,
            );
        }
        if plan.place.is_none() {
            self.unread(
                "place",
                "Không tìm thấy địa danh (phần trước “, ngày … tháng … năm …”).".into(),
                None,
            );
        }
        match (&plan.date, self.invalid_date.take()) {
            (Some(_), _) => {}
            (None, Some(written)) => self.unread(
                "date",
                format!("Ngày ban hành “{written}” chưa đầy đủ hoặc không có thật."),
                Some(written),
            ),
            (None, None) => self.unread(
                "date",
                "Không tìm thấy ngày ban hành (dòng “…, ngày … tháng … năm …”).".into(),
                None,
            ),
        }
        if plan.title.is_none() {
            self.unread(
                "title",
                "Không tìm thấy tên (trích yếu) của kế hoạch sau chữ “KẾ HOẠCH”.".into(),
                None,
            );
        }
        if plan.period.start.is_none() || plan.period.end.is_none() {
            self.unread(
                "period",
                "Không tìm thấy thời gian thực hiện trong tên kế hoạch (“giai đoạn 2017 – 2020”, “năm học 2018 – 2019” hoặc “năm 2018”).".into(),
                None,
            );
        }
        if plan
            .legal_bases
            .iter()
            .all(|b| b.source != BasisSource::Preamble)
        {
            self.unread(
                "legal_bases",
                "Không tìm thấy đoạn “Căn cứ …” nào.".into(),
                None,
            );
        }
        for (i, basis) in plan.legal_bases.iter().enumerate() {
            let found = Some(excerpt(&basis.text, 200));
            let f = |name: &str| format!("legal_bases[{i}].{name}");
            if basis.number.is_none() {
                self.unread(
                    &f("number"),
                    "Căn cứ này không có số và ký hiệu văn bản đọc được.".into(),
                    found.clone(),
                );
            }
            if basis.date.is_none() {
                self.unread(
                    &f("date"),
                    "Căn cứ này không có ngày ban hành đọc được (“ngày … tháng … năm …”).".into(),
                    found.clone(),
                );
            }
            if basis.issuer.is_none() {
                self.unread(
                    &f("issuer"),
                    "Căn cứ này không ghi cơ quan ban hành (“của …”).".into(),
                    found.clone(),
                );
            }
            if basis.title.is_none() {
                self.unread(
                    &f("title"),
                    "Căn cứ này không có trích yếu đọc được.".into(),
                    found,
                );
            }
        }
        if plan.purposes.is_none() {
            let message = if self.saw_purposes {
                "Phần mục đích không có nội dung."
            } else {
                "Không tìm thấy phần mục đích (mục “MỤC ĐÍCH, YÊU CẦU”)."
            };
            self.unread("purposes", message.into(), None);
        }
        if plan.requirements.is_none() {
            let message = if self.saw_purposes {
                "Không tìm thấy phần yêu cầu (mục “Yêu cầu”)."
            } else {
                "Không tìm thấy phần yêu cầu (mục “MỤC ĐÍCH, YÊU CẦU”)."
            };
            self.unread("requirements", message.into(), None);
        }
        if plan.content_areas.is_empty() {
            let message = if self.saw_content {
                "Phần nội dung không có mục nào (“1. Quản lý nhà nước …”)."
            } else {
                "Không tìm thấy phần nội dung truyền thông (mục “NỘI DUNG …”)."
            };
            self.unread("content_areas", message.into(), None);
        }
        for (i, area) in plan.content_areas.iter().enumerate() {
            if area.area.is_none() {
                self.unread(
                    &format!("content_areas[{i}].area"),
                    "Mục này không khớp nội dung truyền thông nào (1–6); xin chọn nội dung.".into(),
                    Some(area.heading.clone()),
                );
            }
            if area.topics.is_empty() {
                self.note(
                    &format!("content_areas[{i}].topics"),
                    format!("Mục “{}” không có chủ đề nào.", excerpt(&area.heading, 60)),
                );
            }
        }
        if plan.duties.is_empty() {
            let message = if self.saw_duties {
                "Phần tổ chức thực hiện không nêu nhiệm vụ của vai trò nào."
            } else {
                "Không tìm thấy phần tổ chức thực hiện (mục “TỔ CHỨC THỰC HIỆN”)."
            };
            self.unread("duties", message.into(), None);
        }
        for (i, d) in plan.duties.iter().enumerate() {
            if d.role.is_none() {
                let known: Vec<&str> = Role::ALL
                    .iter()
                    .filter(|r| **r != Role::DistrictOffice)
                    .map(|r| r.label_vi())
                    .collect();
                self.unread(
                    &format!("duties[{i}].role"),
                    format!(
                        "Không nhận ra vai trò của mục này; xin chọn một vai trò ({}).",
                        known.join(", ")
                    ),
                    Some(d.heading.clone()),
                );
            }
            if d.duties.is_empty() {
                self.note(
                    &format!("duties[{i}].duties"),
                    format!("Mục “{}” không có nhiệm vụ nào.", excerpt(&d.heading, 60)),
                );
            }
        }
    }
}

/// The order of the plan's fields, for sorting what is unread.
fn field_order(field: &str) -> usize {
    const ORDER: [&str; 12] = [
        "number",
        "issuer",
        "parent_agency",
        "place",
        "date",
        "title",
        "period",
        "legal_bases",
        "purposes",
        "requirements",
        "content_areas",
        "duties",
    ];
    ORDER
        .iter()
        .position(|name| {
            field
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
        .unwrap_or(ORDER.len())
}

/// What a field is called in a message.
fn field_label(field: &str) -> String {
    if field == "purposes" {
        "mục đích".into()
    } else if field == "requirements" {
        "yêu cầu".into()
    } else if let Some(i) = field
        .strip_prefix("content_areas[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        format!("mục nội dung thứ {}", i + 1)
    } else if let Some(i) = field
        .strip_prefix("duties[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        format!("nhiệm vụ của mục thứ {}", i + 1)
    } else {
        field.to_string()
    }
}

/// A basis from its text without "Căn cứ"; the bool says the issuer ran into "Về".
fn basis_of(body: &str, whole: &str, source: BasisSource) -> (ProposedBasis, bool) {
    let citation = read_citation(body);
    (
        ProposedBasis {
            number: citation.number,
            date: citation.date,
            issuer: citation.issuer,
            title: citation.title,
            source,
            text: whole.to_string(),
        },
        citation.glued_subject,
    )
}

/// The leading digits of a document number: `29` of `29-NQ/TW` and of `29/NQ-TW`.
fn leading_number(number: &str) -> &str {
    let end = number
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(number.len());
    &number[..end]
}

/// Whether a line heads a content area, and which: its wording says, else its number does
/// (the note is added in `finish`). Headings are short, do not end with a full stop, and are
/// numbered like the first one.
fn area_heading(
    numbering: &Numbering,
    rest: &str,
    style: Option<AreaStyle>,
) -> Option<(Option<ContentArea>, String)> {
    let title = trim_end_of(rest, &[':']).to_string();
    if title.is_empty() || title.chars().count() > MAX_HEADING || rest.ends_with('.') {
        return None;
    }
    let this_style = match numbering {
        Numbering::Arabic { depth, .. } => AreaStyle::Arabic(*depth),
        Numbering::Letter(_) => AreaStyle::Letter,
        Numbering::None => AreaStyle::Unnumbered,
        Numbering::Roman(_) | Numbering::Bullet => return None,
    };
    if style.is_some_and(|s| s != this_style) {
        return None;
    }
    let named = area_named(&domain::district::fold_vietnamese(&title));
    if this_style == AreaStyle::Unnumbered {
        // An unnumbered line is a heading only when it names an area and looks like one.
        return named
            .filter(|_| title.chars().count() <= 100)
            .map(|a| (Some(a), title));
    }
    if named.is_none() && this_style == AreaStyle::Letter && style.is_none() {
        return None;
    }
    let by_number = match numbering {
        Numbering::Arabic { last, .. } => ContentArea::from_number("area", i64::from(*last)).ok(),
        Numbering::Letter(c) => ContentArea::from_number(
            "area",
            i64::from(u32::from(*c)) - i64::from(u32::from('a')) + 1,
        )
        .ok(),
        _ => None,
    };
    Some((named.or(by_number), title))
}

/// A topic's title: without list punctuation at its end.
fn topic_title(text: &str) -> String {
    trim_end_of(text, &['.', ';', ',', ':']).to_string()
}

/// A duty as a sentence: its first letter a capital, ending with a full stop where the list
/// ended it with ';' or ','.
fn duty_text(text: &str) -> String {
    let trimmed = trim_end_of(text, &[';', ',']);
    let mut duty = capitalise_first(trimmed);
    if trimmed.len() != text.trim_end().len() && !duty.ends_with('.') {
        duty.push('.');
    }
    duty
}

/// A title in capitals in sentence case: acronyms kept, the first letter a capital.
fn sentence_case(upper: &str) -> String {
    let cased = agency_case(upper);
    let words: Vec<String> = cased
        .split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i == 0
                || w.chars().skip(1).any(char::is_uppercase)
                || w.chars().all(|c| !c.is_lowercase())
            {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    words.join(" ")
}

/// A period found in a title.
struct FoundPeriod {
    written: String,
    bounds: (NaiveDate, NaiveDate),
}

/// "giai đoạn 2017 – 2020" (1 January 2017 – 31 December 2020), "năm học 2018 – 2019"
/// (1 September 2018 – 31 August 2019, the school year of `domain::calendar`), "năm 2018".
fn period_in(title: &str) -> Option<FoundPeriod> {
    let folded = Folded::new(title);
    for (keyword, school_year) in [("giai doan", false), ("nam hoc", true), ("nam", false)] {
        let mut from = 0;
        while let Some((start, end)) = folded.find_word(keyword, from) {
            from = end;
            let after = &title[folded.at(end)..];
            let Some((first, rest)) = year_at(after) else {
                continue;
            };
            let dashed = rest.trim_start().strip_prefix(['-', '–', '—']);
            let second = dashed.and_then(year_at);
            let (last, rest) = match second {
                Some((y, rest)) if y >= first => (y, rest),
                _ if keyword == "giai doan" || school_year => continue,
                _ => (first, rest),
            };
            let written = title[folded.at(start)..title.len() - rest.len()]
                .trim()
                .to_string();
            let bounds = if school_year {
                if last != first + 1 {
                    continue;
                }
                (
                    NaiveDate::from_ymd_opt(first, 9, 1)?,
                    NaiveDate::from_ymd_opt(last, 8, 31)?,
                )
            } else {
                (
                    NaiveDate::from_ymd_opt(first, 1, 1)?,
                    NaiveDate::from_ymd_opt(last, 12, 31)?,
                )
            };
            return Some(FoundPeriod { written, bounds });
        }
    }
    None
}

/// A four-digit year at the start of `s` (after white space) and the rest.
fn year_at(s: &str) -> Option<(i32, &str)> {
    let s = s.trim_start();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end != 4 {
        return None;
    }
    let year: i32 = s[..end].parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, 1, 1)?;
    (1900..=2200)
        .contains(&date.year())
        .then_some((year, &s[end..]))
}
