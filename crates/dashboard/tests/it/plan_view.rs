//! The heat map, read from the DOM in Chromium, against `GetPlanView` for the same period.

use std::collections::BTreeMap;

use anyhow::{Context as _, ensure};
use test_harness::chromium::Chromium;
use wire::pb;

use crate::site::{Site, screenshot};

/// A cell as the page shows it, or a row as the aggregator answers it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Cell {
    school: String,
    area: u32,
    activities: i64,
    target: Option<i64>,
    status: String,
    channels: String,
}

fn status(code: i32) -> &'static str {
    match pb::TargetStatus::try_from(code) {
        Ok(pb::TargetStatus::Met) => "met",
        Ok(pb::TargetStatus::Missed) => "missed",
        Ok(pb::TargetStatus::NoTarget) => "no_target",
        _ => "unknown",
    }
}

fn from_row(r: &pb::PlanRow) -> Cell {
    Cell {
        school: r.school.clone(),
        area: r.area,
        activities: r.activities,
        target: r.target,
        status: status(r.status).to_string(),
        channels: r.channels.join(","),
    }
}

fn attr<'a>(a: &'a BTreeMap<String, String>, name: &str) -> anyhow::Result<&'a str> {
    a.get(name)
        .map(String::as_str)
        .with_context(|| format!("a cell without {name}: {a:?}"))
}

fn from_dom(a: &BTreeMap<String, String>) -> anyhow::Result<Cell> {
    Ok(Cell {
        school: attr(a, "data-school")?.to_string(),
        area: attr(a, "data-area")?.parse()?,
        activities: attr(a, "data-activities")?.parse()?,
        target: a.get("data-target").map(|t| t.parse()).transpose()?,
        status: attr(a, "data-status")?.to_string(),
        channels: attr(a, "data-channels")?.to_string(),
    })
}

/// For several kinds of period: every cell equals its row of the view, the per-school and
/// per-area totals equal the view's summaries, and the page names the period.
pub async fn heat_map_equals_the_aggregator(
    browser: &Chromium,
    site: &Site,
    mut client: district_fixture::Client,
) -> anyhow::Result<()> {
    let mut targets_seen = 0;
    let mut statuses_seen = std::collections::BTreeSet::new();
    for (ky, shot) in [
        ("plan", Some("ke-hoach-ca-giai-doan")),
        ("2018", None),
        ("2018-Q1", Some("ke-hoach-2018-q1")),
        ("2017-2018-HK2", None),
        ("2019-2020", None),
        ("2019-03", None),
    ] {
        let view = client
            .get_plan_view(pb::GetPlanViewRequest { period: ky.into() })
            .await?
            .into_inner();
        let page = browser.open(&site.url(&format!("/?ky={ky}"))).await?;
        ensure!(page.status == Some(200), "{ky}: HTTP {:?}", page.status);
        ensure!(page.problems().is_empty(), "{ky}: {:?}", page.problems());

        let cells = page.attributes("#ban-do-ke-hoach td.cell").await?;
        for a in &cells {
            let class = attr(a, "class")?;
            let shade_ok = match attr(a, "data-status")? {
                "met" => class == "cell s-met",
                "no_target" => class == "cell s-none",
                _ => ["cell s-m0", "cell s-m1", "cell s-m2", "cell s-m3"].contains(&class),
            };
            ensure!(shade_ok, "{ky}: a cell coloured {class:?}: {a:?}");
        }
        let mut shown: Vec<Cell> = cells.iter().map(from_dom).collect::<anyhow::Result<_>>()?;
        let mut expected: Vec<Cell> = view.rows.iter().map(from_row).collect();
        ensure!(
            expected.len() == 60,
            "{ky}: the view has {} rows, not 10 × 6",
            expected.len()
        );
        shown.sort();
        expected.sort();
        ensure!(
            shown == expected,
            "{ky}: the heat map differs from GetPlanView:\n shown {shown:?}\n view {expected:?}"
        );
        targets_seen += expected.iter().filter(|c| c.target.is_some()).count();
        statuses_seen.extend(expected.iter().map(|c| c.status.clone()));

        let totals: Vec<(String, i64, i64)> = page
            .attributes("#ban-do-ke-hoach tbody tr")
            .await?
            .iter()
            .map(|a| {
                Ok((
                    attr(a, "data-school")?.to_string(),
                    attr(a, "data-total-activities")?.parse()?,
                    attr(a, "data-areas-missed")?.parse()?,
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        let summaries: Vec<(String, i64, i64)> = view
            .schools
            .iter()
            .map(|s| (s.school.clone(), s.total_activities, s.areas_missed))
            .collect();
        ensure!(
            totals == summaries,
            "{ky}: school totals {totals:?} ≠ {summaries:?}"
        );

        let areas: Vec<(u32, i64)> = page
            .attributes("#ban-do-ke-hoach tfoot td[data-schools-missed]")
            .await?
            .iter()
            .map(|a| {
                Ok((
                    attr(a, "data-area")?.parse()?,
                    attr(a, "data-schools-missed")?.parse()?,
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        let area_summaries: Vec<(u32, i64)> = view
            .areas
            .iter()
            .map(|a| (a.area, a.schools_missed))
            .collect();
        ensure!(
            areas == area_summaries,
            "{ky}: area totals {areas:?} ≠ {area_summaries:?}"
        );

        let lagging: Vec<String> = page
            .attributes("#truong-cham li")
            .await?
            .iter()
            .map(|a| attr(a, "data-school").map(str::to_string))
            .collect::<anyhow::Result<_>>()?;
        let expected_lagging: Vec<String> = view.lagging.iter().map(|s| s.school.clone()).collect();
        ensure!(
            lagging == expected_lagging,
            "{ky}: lagging {lagging:?} ≠ {expected_lagging:?}"
        );

        let selected = page.attributes("select[name=ky] option[selected]").await?;
        ensure!(
            selected.len() == 1 && selected[0].get("value").map(String::as_str) == Some(ky),
            "{ky}: the period form shows {selected:?}"
        );
        if let Some(name) = shot {
            screenshot(&page, name).await?;
        }
        page.close().await?;
    }
    // The comparison is only worth something if the demo district exercises targets.
    ensure!(
        targets_seen > 0,
        "no period had a target: the comparison proved little"
    );
    ensure!(
        statuses_seen.contains("met") && statuses_seen.contains("missed"),
        "the periods checked show only {statuses_seen:?}"
    );
    Ok(())
}
