//! The reader against the seed plan and its oracle, a .docx made from it, and plans written
//! differently: what must match, and what must be reported as unread rather than guessed.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use chrono::NaiveDate;
use domain::plan::Plan;
use domain::roles::{ContentArea, Role};

use super::*;

/// The seed plan as the school wrote it, and its structured version made by hand (the oracle).
const SEED: &str = include_str!("../../../deploy/plans/kh-114-thcs-an-hoa-2017.txt");
const ORACLE: &str = include_str!("../../../deploy/plans/kh-114-thcs-an-hoa-2017.toml");
/// Plans written for these tests, following the same conventions differently.
const PRIMARY: &str = include_str!("../tests/fixtures/kh-25-th-an-hoa-2018.txt");
const KINDERGARTEN: &str = include_str!("../tests/fixtures/kh-12-mn-phu-duc-2019.txt");

fn oracle() -> Plan {
    toml::from_str(ORACLE).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn fields(list: &[Unread]) -> Vec<&str> {
    list.iter().map(|u| u.field.as_str()).collect()
}

fn noted(reading: &Reading, field: &str) -> bool {
    reading.notes.iter().any(|n| n.field == field)
}

#[test]
fn seed_header_title_period_and_sections_match_the_oracle() {
    let reading = read_text(SEED);
    let oracle = oracle();
    let p = &reading.proposal;
    assert_eq!(reading.unread, vec![], "everything in the seed is readable");
    assert_eq!(p.number.as_deref(), Some(oracle.number.as_str()));
    assert_eq!(p.issuer.as_deref(), Some(oracle.issuer.as_str()));
    assert_eq!(
        p.parent_agency.as_deref(),
        Some(oracle.parent_agency.as_str())
    );
    assert_eq!(p.place.as_deref(), Some(oracle.place.as_str()));
    assert_eq!(p.date, Some(oracle.date));
    assert_eq!(p.title.as_deref(), Some(oracle.title.as_str()));
    assert_eq!(p.purposes.as_deref(), Some(oracle.purposes.as_str()));
    assert_eq!(
        p.requirements.as_deref(),
        Some(oracle.requirements.as_str())
    );
    // The text says "giai đoạn 2017 – 2020"; the dates are derived, and noted as such.
    assert_eq!(p.period.written.as_deref(), Some("giai đoạn 2017 – 2020"));
    assert_eq!(p.period.start, Some(oracle.period.start()));
    assert_eq!(p.period.end, Some(oracle.period.end()));
    assert!(noted(&reading, "period.start") && noted(&reading, "period.end"));
    // Cased from capitals: said so.
    assert!(noted(&reading, "issuer") && noted(&reading, "parent_agency"));
}

#[test]
fn seed_legal_bases_match_the_oracle_as_far_as_the_text_says() {
    let reading = read_text(SEED);
    let oracle = oracle();
    let bases = &reading.proposal.legal_bases;
    let mut read: Vec<&str> = bases.iter().filter_map(|b| b.number.as_deref()).collect();
    let mut expected: Vec<&str> = oracle
        .legal_bases
        .iter()
        .map(|b| b.number.as_str())
        .collect();
    read.sort_unstable();
    expected.sort_unstable();
    assert_eq!(
        read, expected,
        "the same documents, once each (29/NQ-TW is 29-NQ/TW)"
    );
    // The two "Căn cứ" paragraphs come first and are read completely.
    assert_eq!(bases[0].source, BasisSource::Preamble);
    assert_eq!(bases[1].source, BasisSource::Preamble);
    assert!(
        bases[2..]
            .iter()
            .all(|b| matches!(b.source, BasisSource::Cited { .. }))
    );
    for i in 2..bases.len() {
        assert!(
            noted(&reading, &format!("legal_bases[{i}]")),
            "cited basis {i} is noted"
        );
    }
    // "Tam NôngVề": split, and said so.
    assert!(noted(&reading, "legal_bases[1].issuer"));
    for basis in bases {
        let number = basis.number.as_deref().unwrap();
        let expected = oracle
            .legal_bases
            .iter()
            .find(|b| b.number == number)
            .unwrap();
        assert_eq!(basis.date, Some(expected.date), "{number}");
        // Where the text writes issuer and subject as the oracle does, they match exactly.
        if [
            "1442/KH-PGDĐT",
            "89/KH-PGDĐT",
            "88/2014/QH13",
            "1501/QĐ-TTg",
        ]
        .contains(&number)
        {
            assert_eq!(
                basis.issuer.as_deref(),
                Some(expected.issuer.as_str()),
                "{number}"
            );
            assert_eq!(
                basis.title.as_deref(),
                Some(expected.title.as_str()),
                "{number}"
            );
        }
    }
    let kh175 = bases
        .iter()
        .find(|b| b.number.as_deref() == Some("175/KH-UBND"))
        .unwrap();
    assert_eq!(
        kh175.title.as_deref(),
        Some(oracle.legal_bases[6].title.as_str())
    );
    // The text writes "Uỷ ban", the oracle "Ủy ban": kept as written.
    assert_eq!(
        kh175.issuer.as_deref(),
        Some("Uỷ ban nhân dân huyện Tam Nông")
    );
}

#[test]
fn seed_content_areas_and_duties_match_the_oracle() {
    let reading = read_text(SEED);
    let oracle = oracle();
    let areas = &reading.proposal.content_areas;
    let read: Vec<(Option<ContentArea>, &str)> =
        areas.iter().map(|a| (a.area, a.title.as_str())).collect();
    let expected: Vec<(Option<ContentArea>, &str)> = oracle
        .content_areas
        .iter()
        .map(|a| (Some(a.area), a.title.as_str()))
        .collect();
    assert_eq!(read, expected);
    // Topics are the paragraphs and list items, verbatim; the oracle's author split some
    // paragraphs (areas 2, 3 and 5) and reworded titles, which the text does not do.
    let counts: Vec<usize> = areas.iter().map(|a| a.topics.len()).collect();
    assert_eq!(counts, vec![6, 2, 4, 3, 2, 1]);
    for (i, area) in areas.iter().enumerate() {
        assert!(
            noted(&reading, &format!("content_areas[{i}].topics")),
            "codes noted"
        );
        let mut codes: Vec<&str> = area.topics.iter().map(|t| t.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), area.topics.len(), "codes unique in area {i}");
    }
    assert_eq!(
        areas[2].topics[2].title,
        "Nâng cao chất lượng dạy học ngoại ngữ"
    );
    assert_eq!(
        areas[2].topics[2].code.as_str(),
        "nang-cao-chat-luong-day-hoc-ngoai-ngu"
    );
    assert_eq!(
        areas[0].topics[5].title, oracle.content_areas[0].topics[5].title,
        "a list item read as the oracle has it"
    );
    // The lead-in "Các chủ trương, chính sách …:" is no topic, and that is said.
    assert!(noted(&reading, "content_areas[0]"));

    let duties = &reading.proposal.duties;
    let roles: Vec<Option<Role>> = duties.iter().map(|d| d.role).collect();
    let expected: Vec<Option<Role>> = oracle.duties.iter().map(|d| Some(d.role)).collect();
    assert_eq!(roles, expected, "\"Phó Hiệu trường\" is the vice principal");
    let counts: Vec<usize> = duties.iter().map(|d| d.duties.len()).collect();
    let expected: Vec<usize> = oracle.duties.iter().map(|d| d.duties.len()).collect();
    assert_eq!(counts, expected);
    // Exactly as the oracle: the office team's duty written on its heading line, the trade
    // union's and department heads' lists, the vice principal's first and last.
    for (role, i) in [
        (Role::OfficeTeam, 0),
        (Role::TradeUnion, 0),
        (Role::TradeUnion, 1),
        (Role::DepartmentHead, 0),
        (Role::DepartmentHead, 1),
        (Role::VicePrincipal, 0),
        (Role::VicePrincipal, 2),
    ] {
        let read = duties.iter().find(|d| d.role == Some(role)).unwrap();
        let expected = oracle.duties.iter().find(|d| d.role == role).unwrap();
        assert_eq!(read.duties[i], expected.duties[i], "{role} {i}");
    }
}

#[test]
fn seed_proposal_becomes_a_plan_the_domain_accepts() {
    let plan = read_text(SEED).proposal.to_plan().unwrap();
    let oracle = oracle();
    assert_eq!(plan.number, oracle.number);
    assert_eq!(plan.period, oracle.period);
    assert_eq!(plan.legal_bases.len(), oracle.legal_bases.len());
    assert_eq!(plan.content_areas.len(), 6);
    // And the domain's own rules still apply to what the person edits.
    let mut edited = read_text(SEED).proposal;
    edited.number = Some("114 KH".into());
    let refused = edited.to_plan().unwrap_err();
    assert_eq!(fields(&refused), vec!["number"]);
    assert!(
        refused[0].message.contains("114 KH"),
        "{}",
        refused[0].message
    );
}

/// A .docx of `lines`, one paragraph each; the first `table` lines go in a two-column
/// header table (left column first), as Word templates lay out the header block.
fn docx_of(lines: &[&str], header: Option<(&[&str], &[&str])>) -> Vec<u8> {
    use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow};
    let paragraph = |text: &str| Paragraph::new().add_run(Run::new().add_text(text));
    let mut doc = Docx::new();
    if let Some((left, right)) = header {
        let cell = |lines: &[&str]| {
            lines
                .iter()
                .fold(TableCell::new(), |cell, l| cell.add_paragraph(paragraph(l)))
        };
        doc = doc.add_table(Table::new(vec![TableRow::new(vec![
            cell(left),
            cell(right),
        ])]));
    }
    for line in lines {
        doc = doc.add_paragraph(paragraph(line));
    }
    let mut packed = Cursor::new(Vec::new());
    doc.build().pack(&mut packed).unwrap();
    packed.into_inner()
}

#[test]
fn a_docx_of_the_seed_reads_as_the_text() {
    let lines: Vec<&str> = SEED.lines().collect();
    let bytes = docx_of(&lines, None);
    assert_eq!(read_docx(&bytes).unwrap(), read_text(SEED));
    assert_eq!(read_upload("KH 114.DOCX", &bytes).unwrap(), read_text(SEED));
}

#[test]
fn a_docx_with_the_header_in_a_table_proposes_the_same_plan() {
    let body: Vec<&str> = SEED
        .lines()
        .skip_while(|l| l.trim() != "KẾ HOẠCH")
        .collect();
    let left = [
        "PHÒNG GD-ĐT TAM NÔNG",
        "TRƯỜNG THCS AN HÒA",
        "–––––––––––",
        "Số: 114/KH-THCSAH",
    ];
    let right = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "An Hòa, ngày 20  tháng 10  năm 2017",
    ];
    let reading = read_docx(&docx_of(&body, Some((&left, &right)))).unwrap();
    assert_eq!(reading.proposal, read_text(SEED).proposal);
    assert_eq!(reading.unread, vec![]);
}

#[test]
fn a_primary_school_plan_numbered_in_arabic_with_lettered_topics() {
    let reading = read_text(PRIMARY);
    let p = &reading.proposal;
    assert_eq!(p.number.as_deref(), Some("25/KH-THAH"));
    assert_eq!(p.issuer.as_deref(), Some("Trường Tiểu học An Hòa"));
    assert_eq!(p.parent_agency.as_deref(), Some("Phòng GD&ĐT Tam Nông"));
    assert_eq!(p.place.as_deref(), Some("An Hòa"));
    assert_eq!(p.date, Some(date(2018, 9, 5)));
    assert_eq!(
        p.title.as_deref(),
        Some("Công tác truyền thông giáo dục năm học 2018 – 2019")
    );
    // A school year: 1 September to 31 August, from the issue date.
    assert_eq!(
        (p.period.start, p.period.end),
        (Some(date(2018, 9, 5)), Some(date(2019, 8, 31)))
    );
    // Bases as "- Căn cứ …" items with dd/m/yyyy dates; one cites no document.
    let numbers: Vec<Option<&str>> = p.legal_bases.iter().map(|b| b.number.as_deref()).collect();
    assert_eq!(
        numbers,
        vec![
            Some("1012/PGDĐT-GDTH"),
            Some("1442/KH-PGDĐT"),
            None,
            Some("2699/CT-BGDĐT")
        ]
    );
    assert_eq!(p.legal_bases[0].date, Some(date(2018, 8, 30)));
    assert_eq!(
        p.legal_bases[0].title.as_deref(),
        Some("Công văn hướng dẫn nhiệm vụ giáo dục tiểu học năm học 2018 – 2019")
    );
    assert_eq!(
        p.legal_bases[2].title.as_deref(),
        Some("Tình hình thực tế của nhà trường")
    );
    assert_eq!(p.legal_bases[3].date, Some(date(2018, 8, 8)));
    assert_eq!(
        p.legal_bases[3].issuer.as_deref(),
        Some("Bộ trưởng Bộ Giáo dục và Đào tạo")
    );
    assert_eq!(
        p.legal_bases[3].source,
        BasisSource::Cited {
            field: "content_areas[0]".into()
        }
    );
    assert_eq!(p.purposes.as_deref().map(|t| t.lines().count()), Some(2));
    assert_eq!(
        p.requirements.as_deref(),
        Some("Thông tin chính xác, đúng định hướng, phù hợp với lứa tuổi học sinh tiểu học.")
    );
    // "2.2. Công tác thi đua …" is area 4 by its wording, whatever its number; noted.
    let areas: Vec<Option<ContentArea>> = p.content_areas.iter().map(|a| a.area).collect();
    assert_eq!(
        areas,
        vec![
            Some(ContentArea::StateManagement),
            Some(ContentArea::EmulationCommendation),
            Some(ContentArea::CurriculumReform)
        ]
    );
    assert!(noted(&reading, "content_areas[1].area") && noted(&reading, "content_areas[2].area"));
    assert!(p.content_areas.iter().all(|a| a.topics.len() == 2));
    assert_eq!(
        p.content_areas[1].topics[0].title,
        "Phong trào thi đua “Dạy tốt – Học tốt” của nhà trường"
    );
    // Duties: a duty on the heading's line, one list for two roles, a role the system does
    // not have, a teacher.
    let roles: Vec<Option<Role>> = p.duties.iter().map(|d| d.role).collect();
    assert_eq!(
        roles,
        vec![
            Some(Role::Principal),
            Some(Role::VicePrincipal),
            Some(Role::DepartmentHead),
            None,
            Some(Role::Teacher)
        ]
    );
    assert_eq!(
        p.duties[0].duties,
        vec!["Chỉ đạo chung công tác truyền thông của nhà trường."]
    );
    assert_eq!(p.duties[1].duties, p.duties[2].duties);
    assert_eq!(p.duties[1].duties.len(), 2);
    assert_eq!(p.duties[3].heading, "c) Tổng phụ trách Đội:");
    // Exactly what could not be read: the basis without a document, the unknown role.
    assert_eq!(
        fields(&reading.unread),
        vec![
            "legal_bases[2].number",
            "legal_bases[2].date",
            "legal_bases[2].issuer",
            "duties[3].role"
        ]
    );
    assert_eq!(
        reading.unread[3].found.as_deref(),
        Some("c) Tổng phụ trách Đội:")
    );
    // The budget section has no place in the plan: said, not dropped silently.
    assert!(
        reading
            .notes
            .iter()
            .any(|n| n.message.contains("4. KINH PHÍ"))
    );
    // Not adoptable until the person fixes both.
    let missing = p.to_plan().unwrap_err();
    assert_eq!(fields(&missing), fields(&reading.unread));
    let mut fixed = p.clone();
    fixed.legal_bases.remove(2);
    fixed.duties[3].role = Some(Role::Teacher);
    fixed.duties.remove(4);
    let plan = fixed.to_plan().unwrap();
    assert_eq!(plan.duties.len(), 4);
}

#[test]
fn a_kindergarten_plan_without_bases_duties_or_a_day_reports_exactly_those() {
    let reading = read_text(KINDERGARTEN);
    let p = &reading.proposal;
    assert_eq!(
        fields(&reading.unread),
        vec!["date", "legal_bases", "duties"],
        "{:#?}",
        reading.unread
    );
    assert_eq!(
        reading.unread[0].found.as_deref(),
        Some("ngày tháng 10 năm 2019")
    );
    assert_eq!(p.date, None);
    assert_eq!(p.legal_bases, vec![]);
    assert_eq!(p.duties, vec![]);
    assert_eq!(p.number.as_deref(), Some("12/KH-MNPĐ"));
    assert_eq!(p.issuer.as_deref(), Some("Trường Mầm non Phú Đức"));
    assert_eq!(
        p.parent_agency.as_deref(),
        Some("Phòng Giáo dục và Đào tạo Tam Nông")
    );
    assert_eq!(p.place.as_deref(), Some("Phú Đức"));
    // The title on the "KẾ HOẠCH" line, in capitals: cased and noted.
    assert_eq!(
        p.title.as_deref(),
        Some("Truyền thông về giáo dục mầm non năm học 2019 – 2020")
    );
    assert!(noted(&reading, "title"));
    // No issue date: the school year's own start.
    assert_eq!(
        (p.period.start, p.period.end),
        (Some(date(2019, 9, 1)), Some(date(2020, 8, 31)))
    );
    assert!(p.purposes.is_some() && p.requirements.is_some());
    let areas: Vec<Option<ContentArea>> = p.content_areas.iter().map(|a| a.area).collect();
    assert_eq!(
        areas,
        vec![
            Some(ContentArea::EmulationCommendation),
            Some(ContentArea::Other)
        ]
    );
    assert_eq!(
        p.content_areas[1].topics[1].title,
        "Vận động trẻ 5 tuổi ra lớp"
    );
    // Adoption needs the date; bases and duties may stay empty.
    assert_eq!(fields(&p.to_plan().unwrap_err()), vec!["date"]);
    let mut dated = p.clone();
    dated.date = Some(date(2019, 10, 7));
    assert!(dated.to_plan().is_ok());
}

#[test]
fn nothing_readable_is_all_unread_and_never_a_panic() {
    let all = [
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
    for text in [
        "",
        "   \n\n\t",
        "Xin chào",
        "\u{0}\u{1}\u{FEFF}\u{202E}",
        "I.\n1.\na)\n-\n:",
    ] {
        let reading = read_text(text);
        assert_eq!(fields(&reading.unread), all, "{text:?}");
        assert_eq!(reading.proposal, ProposedPlan::default(), "{text:?}");
    }
    // Odd inputs in every part of the reader.
    let mut odd = String::new();
    for line in SEED.lines() {
        odd.push_str(&line.chars().rev().collect::<String>());
        odd.push('\n');
        let half: String = line.chars().take(line.chars().count() / 2).collect();
        odd.push_str(&half.replace(' ', ""));
        odd.push('\n');
    }
    let _ = read_text(&odd);
    let prose = read_text(&"Một đoạn văn không phải kế hoạch.\n".repeat(1000));
    assert_eq!(prose.notes.len(), 201, "notes are capped");
    let _ = read_text(&"Căn cứ Kế hoạch số ngày của về\n".repeat(50));
    let _ = read_text(&"ngày 99 tháng 99 năm 9999 Số: /// KẾ HOẠCH".repeat(20));
    let binary: Vec<u8> = (0..4096_u32).map(|i| (i * 7919 % 251) as u8).collect();
    let _ = read_text(&String::from_utf8_lossy(&binary));
}

#[test]
fn an_impossible_issue_date_is_unread_with_what_was_written() {
    let text = SEED.replace("ngày 20  tháng 10  năm 2017", "ngày 31 tháng 02 năm 2017");
    let reading = read_text(&text);
    assert_eq!(fields(&reading.unread), vec!["date"]);
    assert_eq!(
        reading.unread[0].found.as_deref(),
        Some("31 tháng 02 năm 2017")
    );
    assert_eq!(reading.proposal.place.as_deref(), Some("An Hòa"));
}

#[test]
fn uploads_are_told_apart_and_bad_ones_refused_in_vietnamese() {
    let bytes = docx_of(&SEED.lines().collect::<Vec<_>>(), None);
    let text = read_text(SEED);
    assert_eq!(read_upload("kh.txt", SEED.as_bytes()).unwrap(), text);
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(SEED.as_bytes());
    assert_eq!(read_upload("kh.TXT", &bom).unwrap(), text);
    assert_eq!(
        read_upload("kh.txt", &bytes).unwrap(),
        text,
        "a .docx renamed .txt"
    );
    assert_eq!(
        read_upload("kh.pdf", &bytes),
        Err(UploadError::UnsupportedType)
    );
    assert_eq!(
        read_upload("kh", SEED.as_bytes()),
        Err(UploadError::UnsupportedType)
    );
    assert_eq!(read_upload("kh.txt", b""), Err(UploadError::Empty));
    assert_eq!(
        read_upload(
            "kh.doc",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
        ),
        Err(UploadError::OldWord)
    );
    let big = vec![b'a'; MAX_UPLOAD + 1];
    assert!(matches!(
        read_upload("kh.txt", &big),
        Err(UploadError::TooLarge { .. })
    ));
    // Windows-1258 "Hòa" and UTF-16: refused, saying why.
    let err = read_upload("kh.txt", b"Tr\xF0\xEC\xD2ng H\xF2a").unwrap_err();
    assert!(matches!(err, UploadError::NotUtf8(_)));
    assert!(
        err.to_string().starts_with("Tệp văn bản không phải UTF-8"),
        "{err}"
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Số".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert!(matches!(
        read_upload("kh.txt", &utf16),
        Err(UploadError::NotUtf8(_))
    ));
    // Not a zip, a zip without a document, a broken document.
    let err = read_upload("kh.docx", b"Xin chao").unwrap_err();
    assert!(err.to_string().starts_with("Tệp .docx bị hỏng: "), "{err}");
    assert!(matches!(
        read_docx(b"PK\x03\x04garbage"),
        Err(DocxError::Corrupt(_))
    ));
    assert_eq!(
        read_docx(&zip_of("word/other.xml", b"<a/>")),
        Err(DocxError::NoDocument)
    );
    let broken = zip_of(
        "word/document.xml",
        b"<w:document><w:body><w:p><w:r><w:t>S\xF0</w:t>",
    );
    assert!(matches!(read_docx(&broken), Err(DocxError::Corrupt(_))));
    let truncated = &bytes[..bytes.len() / 2];
    assert!(read_upload("kh.docx", truncated).is_err());
}

fn zip_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, options).unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_is_refused_without_inflating_it() {
    let mut xml = b"<w:document><w:body><w:p><w:r><w:t>".to_vec();
    xml.resize(MAX_DOCUMENT_XML as usize + 10, b' ');
    let bomb = zip_of("word/document.xml", &xml);
    assert!(
        bomb.len() < MAX_UPLOAD,
        "small enough to upload: {}",
        bomb.len()
    );
    assert_eq!(
        read_upload("kh.docx", &bomb),
        Err(UploadError::Docx(DocxError::TooLarge))
    );
}

#[test]
fn docx_text_keeps_entities_breaks_and_skips_deleted_and_fallback_text() {
    let xml = r#"<w:document xmlns:w="w" xmlns:mc="mc"><w:body>
        <w:p><w:r><w:t>Số: 7/KH-THPĐ</w:t></w:r></w:p>
        <w:p><w:r><w:t>A &amp; B&#7885;</w:t><w:br/><w:t>dòng hai</w:t><w:delText>xoá</w:delText></w:r></w:p>
        <w:p><mc:AlternateContent><mc:Choice><w:t>một</w:t></mc:Choice><mc:Fallback><w:p><w:r><w:t>hai</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent></w:p>
        </w:body></w:document>"#;
    let paragraphs = super::docx::paragraphs_for_test(xml).unwrap();
    assert_eq!(paragraphs, vec!["Số: 7/KH-THPĐ", "A & Bọ\ndòng hai", "một"]);
}

#[test]
fn text_helpers() {
    use crate::text::{DateText, Numbering, agency_case, date_after_ngay, slug, split_numbering};
    assert_eq!(
        split_numbering("II. NỘI DUNG"),
        (Numbering::Roman(2), "NỘI DUNG")
    );
    assert_eq!(
        split_numbering("1.- Hiệu trưởng:"),
        (Numbering::Arabic { depth: 1, last: 1 }, "Hiệu trưởng:")
    );
    assert_eq!(
        split_numbering("2.3. Đổi mới"),
        (Numbering::Arabic { depth: 2, last: 3 }, "Đổi mới")
    );
    assert_eq!(
        split_numbering("5 Công đoàn:"),
        (Numbering::Arabic { depth: 1, last: 5 }, "Công đoàn:")
    );
    assert_eq!(
        split_numbering("2017 – 2020"),
        (Numbering::None, "2017 – 2020")
    );
    assert_eq!(split_numbering("10 ngày"), (Numbering::None, "10 ngày"));
    assert_eq!(
        split_numbering("b) Yêu cầu"),
        (Numbering::Letter('b'), "Yêu cầu")
    );
    assert_eq!(
        split_numbering("-  Phối hợp"),
        (Numbering::Bullet, "Phối hợp")
    );
    assert_eq!(
        split_numbering("Việc triển khai"),
        (Numbering::None, "Việc triển khai")
    );
    assert_eq!(
        agency_case("ỦY BAN NHÂN DÂN HUYỆN TAM NÔNG"),
        "Ủy ban nhân dân huyện Tam Nông"
    );
    assert_eq!(
        agency_case("TRƯỜNG THCS TRÀM CHIM"),
        "Trường THCS Tràm Chim"
    );
    for (written, expected) in [
        ("20  tháng 10  năm 2017", Some(date(2017, 10, 20))),
        ("04/11/2013", Some(date(2013, 11, 4))),
        ("05-9-2018 của", Some(date(2018, 9, 5))),
        ("5 tháng 9 năm 2018", Some(date(2018, 9, 5))),
    ] {
        assert_eq!(
            date_after_ngay(written).map(|(d, _)| d),
            expected.map(DateText::Valid),
            "{written}"
        );
    }
    assert_eq!(
        date_after_ngay("30/02/2018").map(|(d, _)| d),
        Some(DateText::Invalid("30/02/2018".into()))
    );
    assert_eq!(date_after_ngay("tháng 10 năm 2019"), None);
    assert_eq!(date_after_ngay("04/11"), None);
    assert_eq!(
        slug("Đổi mới – “đột phá” 2018!", 63),
        "doi-moi-dot-pha-2018"
    );
    let long = slug(&"Quản lý nhà nước ".repeat(10), 63);
    assert!(long.len() <= 63 && !long.ends_with('-'), "{long}");
    assert_eq!(slug("…", 63), "");
}

#[test]
fn topic_codes_stay_unique_and_valid_when_titles_repeat() {
    let text = SEED.replace(
        "Nâng cao chất lượng dạy học ngoại ngữ.\n\nDuy trì và nâng cao kết quả PCGD trung học cơ sở.",
        "Nâng cao chất lượng dạy học ngoại ngữ.\nNâng cao chất lượng dạy học ngoại ngữ.\n…\n…",
    );
    let reading = read_text(&text);
    let codes: Vec<&str> = reading.proposal.content_areas[2]
        .topics
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    assert_eq!(
        codes[2..],
        [
            "nang-cao-chat-luong-day-hoc-ngoai-ngu",
            "nang-cao-chat-luong-day-hoc-ngoai-ngu-2",
            "chu-de-5",
            "chu-de-6"
        ]
    );
}

#[test]
fn a_large_upload_is_read_in_reasonable_time() {
    // Just under the upload cap: the seed's body many times over.
    let text = SEED.repeat(MAX_UPLOAD / SEED.len());
    let started = std::time::Instant::now();
    let reading = read_upload("kh.txt", text.as_bytes()).unwrap();
    assert_eq!(reading.proposal.number.as_deref(), Some("114/KH-THCSAH"));
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}
