//! From a reviewed proposal to the domain's plan.

use domain::DateRange;
use domain::plan::{AreaPlan, LegalBasis, Plan, RoleDuties, Topic};

use crate::{ProposedPlan, Unread};

impl ProposedPlan {
    /// The plan, when every required field is present and the domain's rules
    /// ([`Plan::validated`]) accept it; otherwise what is missing or wrong, by field.
    pub fn to_plan(&self) -> Result<Plan, Vec<Unread>> {
        let mut missing = Vec::new();
        let mut need = |field: &str, label: &str| {
            missing.push(Unread {
                field: field.to_string(),
                message: format!("Chưa có {label}."),
                found: None,
            });
        };
        let text = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let number = text(&self.number);
        if number.is_none() {
            need("number", "số và ký hiệu");
        }
        let issuer = text(&self.issuer);
        if issuer.is_none() {
            need("issuer", "cơ quan ban hành");
        }
        let parent_agency = text(&self.parent_agency);
        if parent_agency.is_none() {
            need("parent_agency", "cơ quan chủ quản");
        }
        let place = text(&self.place);
        if place.is_none() {
            need("place", "địa danh");
        }
        if self.date.is_none() {
            need("date", "ngày ban hành");
        }
        let title = text(&self.title);
        if title.is_none() {
            need("title", "tên kế hoạch");
        }
        if self.period.start.is_none() {
            need("period.start", "ngày bắt đầu thời gian thực hiện");
        }
        if self.period.end.is_none() {
            need("period.end", "ngày kết thúc thời gian thực hiện");
        }
        let mut legal_bases = Vec::new();
        for (i, basis) in self.legal_bases.iter().enumerate() {
            let f = |name: &str| format!("legal_bases[{i}].{name}");
            let (number, issuer, title) =
                (text(&basis.number), text(&basis.issuer), text(&basis.title));
            if number.is_none() {
                need(&f("number"), "số và ký hiệu của căn cứ");
            }
            if basis.date.is_none() {
                need(&f("date"), "ngày ban hành của căn cứ");
            }
            if issuer.is_none() {
                need(&f("issuer"), "cơ quan ban hành của căn cứ");
            }
            if title.is_none() {
                need(&f("title"), "trích yếu của căn cứ");
            }
            if let (Some(number), Some(date), Some(issuer), Some(title)) =
                (number, basis.date, issuer, title)
            {
                legal_bases.push(LegalBasis {
                    number,
                    date,
                    issuer,
                    title,
                });
            }
        }
        let purposes = text(&self.purposes);
        if purposes.is_none() {
            need("purposes", "mục đích");
        }
        let requirements = text(&self.requirements);
        if requirements.is_none() {
            need("requirements", "yêu cầu");
        }
        if self.content_areas.is_empty() {
            need("content_areas", "nội dung truyền thông nào");
        }
        let mut content_areas = Vec::new();
        for (i, area) in self.content_areas.iter().enumerate() {
            match area.area {
                Some(a) => content_areas.push(AreaPlan {
                    area: a,
                    title: area.title.clone(),
                    topics: area
                        .topics
                        .iter()
                        .map(|t| Topic {
                            code: t.code.clone(),
                            title: t.title.clone(),
                        })
                        .collect(),
                }),
                None => need(
                    &format!("content_areas[{i}].area"),
                    "nội dung truyền thông (1–6) của mục này",
                ),
            }
        }
        let mut duties = Vec::new();
        for (i, d) in self.duties.iter().enumerate() {
            match d.role {
                Some(role) => duties.push(RoleDuties {
                    role,
                    duties: d.duties.clone(),
                }),
                None => need(&format!("duties[{i}].role"), "vai trò của mục này"),
            }
        }
        let (
            Some(number),
            Some(issuer),
            Some(parent_agency),
            Some(place),
            Some(date),
            Some(title),
            Some(start),
            Some(end),
            Some(purposes),
            Some(requirements),
        ) = (
            number,
            issuer,
            parent_agency,
            place,
            self.date,
            title,
            self.period.start,
            self.period.end,
            purposes,
            requirements,
        )
        else {
            return Err(missing);
        };
        if !missing.is_empty() {
            return Err(missing);
        }
        let period = DateRange::new(start, end).map_err(|e| vec![refusal(&e.within("period"))])?;
        let plan = Plan {
            number,
            issuer,
            parent_agency,
            place,
            date,
            title,
            period,
            legal_bases,
            purposes,
            requirements,
            content_areas,
            duties,
        };
        plan.validated()
            .map(|(plan, _warnings)| plan)
            .map_err(|e| vec![refusal(&e)])
    }
}

/// A domain refusal as an unread field, its path without the `plan.` prefix.
fn refusal(error: &domain::DomainError) -> Unread {
    Unread {
        field: error
            .field
            .strip_prefix("plan.")
            .unwrap_or(&error.field)
            .to_string(),
        message: error.vietnamese(),
        found: None,
    }
}
