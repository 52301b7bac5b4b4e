//! The oracle: every message of the district stream, read back with a plain async-nats ordered
//! consumer and folded into the reference model (`domain::district::DistrictModel`) in stream
//! order; then every district view the aggregator answers over gRPC is compared with `wire`'s
//! conversion of the model's answer, as protobuf messages. Mismatches are collected (all of
//! them, with a line diff) rather than stopping at the first, so a failure reports everything
//! that differs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::Duration;

use async_nats::jetstream;
use domain::district::DistrictModel;
use domain::{Author, Envelope, Period, Slug};
use futures::StreamExt;
use wire::convert::district as convert;
use wire::pb;

use crate::system::{self, DISTRICT, Office, PROVINCE, stream_name};

/// One message of the district stream.
#[derive(Debug, Clone)]
pub struct StreamMessage {
    pub subject: String,
    pub envelope: Envelope,
    pub headers: Option<async_nats::HeaderMap>,
    pub payload: Vec<u8>,
}

impl StreamMessage {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_ref()?.get(name).map(|v| v.as_str())
    }

    pub fn author(&self) -> &str {
        self.envelope.school.as_str()
    }
}

/// Every message of the district stream, in stream order.
pub async fn read_stream(js: &jetstream::Context) -> anyhow::Result<Vec<StreamMessage>> {
    let mut stream = js.get_stream(stream_name()).await?;
    let total = stream.info().await?.state.messages;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let mut out = Vec::with_capacity(total as usize);
    while (out.len() as u64) < total {
        let message = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .map_err(|_| anyhow::anyhow!("the ordered consumer stalled at {}", out.len()))?
            .ok_or_else(|| anyhow::anyhow!("the ordered consumer ended"))??;
        let envelope = Envelope::parse(&message.payload)
            .map_err(|e| anyhow::anyhow!("stream message {} is no envelope: {e}", out.len() + 1))?;
        out.push(StreamMessage {
            subject: message.subject.to_string(),
            envelope,
            headers: message.headers.clone(),
            payload: message.payload.to_vec(),
        });
    }
    Ok(out)
}

/// The reference model of the stream, folded in stream order.
pub fn fold(messages: &[StreamMessage]) -> DistrictModel {
    let mut model = DistrictModel::new(
        Slug::parse("province", PROVINCE).expect("valid"),
        Slug::parse("district", DISTRICT).expect("valid"),
    );
    model.apply_all(messages.iter().map(|m| &m.envelope));
    model
}

/// Mismatches between the aggregator and the reference, each with a diff.
#[derive(Debug, Default)]
pub struct Diffs {
    pub checked: usize,
    pub found: Vec<String>,
}

impl Diffs {
    /// Compares `actual` (the aggregator's) with `expected` (the reference's).
    pub fn check<T: PartialEq + Debug>(&mut self, label: &str, actual: &T, expected: &T) -> bool {
        self.checked += 1;
        if actual == expected {
            return true;
        }
        self.found.push(format!(
            "{label}: the aggregator differs from the reference\n{}",
            diff(&format!("{expected:#?}"), &format!("{actual:#?}"))
        ));
        false
    }

    pub fn fail(&mut self, label: &str, message: String) {
        self.checked += 1;
        self.found.push(format!("{label}: {message}"));
    }

    pub fn extend(&mut self, other: Diffs) {
        self.checked += other.checked;
        self.found.extend(other.found);
    }

    /// Panics with every mismatch.
    pub fn assert_none(&self, context: &str) {
        assert!(
            self.found.is_empty(),
            "{context}: {} of {} comparisons differ from the reference:\n\n{}",
            self.found.len(),
            self.checked,
            self.found.join("\n\n")
        );
    }
}

/// A line diff of two pretty-printed values: the differing middle, with three lines of
/// context, `-` the reference and `+` the aggregator; at most 80 lines of each.
pub fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let prefix = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = e[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let from = prefix.saturating_sub(3);
    let mut out = format!("@@ line {} @@\n", from + 1);
    for line in &e[from..prefix] {
        out.push_str(&format!("  {line}\n"));
    }
    for line in e[prefix..e.len() - suffix].iter().take(80) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in a[prefix..a.len() - suffix].iter().take(80) {
        out.push_str(&format!("+ {line}\n"));
    }
    for line in e[e.len() - suffix..].iter().take(3) {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// Periods every comparison covers: a month, quarters, semesters, school and calendar years,
/// the whole plan.
pub const PERIODS: &[&str] = &[
    "2018-03",
    "2018-Q1",
    "2017-2018-HK1",
    "2019-2020-HK2",
    "2018-2019",
    "2017",
    "2019",
    "plan",
];

/// Searches compared page by page.
fn search_filters(first_school: &str) -> Vec<(pb::ActivityFilter, u32)> {
    vec![
        (
            pb::ActivityFilter {
                text: "huong nghiep".into(),
                ..Default::default()
            },
            100,
        ),
        (
            pb::ActivityFilter {
                text: "Tràm Chim".into(),
                period: "2018-2019".into(),
                ..Default::default()
            },
            100,
        ),
        (
            pb::ActivityFilter {
                school: first_school.into(),
                area: 3,
                ..Default::default()
            },
            100,
        ),
        (
            pb::ActivityFilter {
                channel: pb::Channel::DistrictRadio.into(),
                period: "2019".into(),
                ..Default::default()
            },
            100,
        ),
        (pb::ActivityFilter::default(), 500),
    ]
}

/// What the aggregator answered, by view, for comparing two moments.
pub type Snapshot = Vec<(String, String)>;

/// Compares every view for every period of [`PERIODS`], the budget of each plan year and the
/// searches; returns the mismatches and the aggregator's answers.
pub async fn compare_views(
    office: &mut Office,
    model: &DistrictModel,
) -> anyhow::Result<(Diffs, Snapshot)> {
    let mut d = Diffs::default();
    let mut snapshot = Snapshot::new();
    let mut note = |label: &str, value: &dyn Debug| {
        snapshot.push((label.to_owned(), format!("{value:?}")));
    };

    let schools = office
        .list_schools(pb::ListSchoolsRequest {})
        .await?
        .into_inner();
    let expected: Vec<pb::EnrolledSchool> = model
        .schools()
        .iter()
        .map(convert::enrolled_school_to_pb)
        .collect();
    d.check("list_schools", &schools.schools, &expected);
    note("list_schools", &schools);
    let plan = office
        .get_district_plan(pb::GetDistrictPlanRequest {})
        .await?
        .into_inner();
    d.check(
        "district_plan",
        &plan.plan,
        &model.district_plan().map(convert::district_plan_to_pb),
    );
    note("district_plan", &plan);
    let plan_period = model
        .district_plan()
        .ok_or_else(|| anyhow::anyhow!("the reference has no district plan"))?
        .period;

    for text in PERIODS {
        let period: Period = text.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let label = format!("plan view {text}");
        let actual = office
            .get_plan_view(pb::GetPlanViewRequest {
                period: text.to_string(),
            })
            .await?
            .into_inner();
        d.check(
            &label,
            &actual,
            &convert::plan_view_to_pb(&model.plan_view(period)?),
        );
        note(&label, &actual);

        let label = format!("completeness {text}");
        let actual = office
            .get_completeness(pb::GetCompletenessRequest {
                period: text.to_string(),
            })
            .await?
            .into_inner();
        d.check(
            &label,
            &actual,
            &convert::completeness_to_pb(&model.completeness(period)?),
        );
        note(&label, &actual);

        let range = period.range(plan_period);
        let midway = range.start()
            + chrono::Days::new(((range.end() - range.start()).num_days() / 2) as u64);
        for as_of in [None, Some(midway), Some(range.start())] {
            let label = format!("responsiveness {text} as of {as_of:?}");
            let actual = office
                .get_responsiveness(pb::GetResponsivenessRequest {
                    period: text.to_string(),
                    as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
                })
                .await?
                .into_inner();
            d.check(
                &label,
                &actual,
                &convert::responsiveness_to_pb(&model.responsiveness(period, as_of)?),
            );
            note(&label, &actual);
        }

        let label = format!("commendation {text}");
        let actual = office
            .get_commendation(pb::GetCommendationRequest {
                period: text.to_string(),
            })
            .await?
            .into_inner();
        d.check(
            &label,
            &actual,
            &convert::commendation_to_pb(&model.commendation(period)?),
        );
        note(&label, &actual);
    }

    for year in plan_period.years() {
        let label = format!("budget {year}");
        let actual = office
            .get_budget(pb::GetBudgetRequest { year })
            .await?
            .into_inner();
        d.check(
            &label,
            &actual,
            &convert::budget_to_pb(&model.budget(year)?),
        );
        note(&label, &actual);
    }

    let first_school = model
        .schools()
        .first()
        .map(|s| s.code.to_string())
        .unwrap_or_default();
    for (filter, page_size) in search_filters(&first_school) {
        let domain_filter = convert::activity_filter_from_pb(Some(filter.clone()))?;
        let mut token = String::new();
        for page_number in 1.. {
            let label = format!("search {filter:?} page {page_number} of {page_size}");
            let actual = office
                .search_activities(pb::SearchActivitiesRequest {
                    filter: Some(filter.clone()),
                    page_size,
                    page_token: token.clone(),
                })
                .await?
                .into_inner();
            let expected =
                model.search_activities(&domain_filter, Some(page_size), Some(token.as_str()))?;
            let same = d.check(&label, &actual, &convert::activity_page_to_pb(&expected));
            note(&label, &actual);
            if !same || actual.next_page_token.is_empty() || page_number > 200 {
                break;
            }
            token = actual.next_page_token;
        }
    }
    Ok((d, snapshot))
}

/// Checks the reference and the aggregator agree on where each author stands, and that both
/// reached `heads` with every `(author, seq)` applied exactly once: `applied_events` equals the
/// number of distinct seqs the stream holds for the author, and nothing is held or rejected.
pub async fn compare_positions(
    office: &mut Office,
    model: &DistrictModel,
    messages: &[StreamMessage],
    heads: &BTreeMap<String, u64>,
) -> anyhow::Result<Diffs> {
    let mut d = Diffs::default();
    let state = system::ingest_state(office).await?;
    let mut seqs: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for m in messages {
        seqs.entry(m.author()).or_default().insert(m.envelope.seq);
    }
    if !model.dead_letters().is_empty() {
        d.fail(
            "reference dead letters",
            format!("{:?}", model.dead_letters()),
        );
    }
    for (code, head) in heads {
        let position = model.position(&Author::parse("author", code)?);
        d.check(
            &format!("reference position of {code}"),
            &(position.applied_seq, position.held_seqs.len()),
            &(*head, 0),
        );
        let in_stream = seqs.get(code.as_str()).cloned().unwrap_or_default();
        d.check(
            &format!("seqs of {code} in the stream"),
            &in_stream,
            &(1..=*head).collect(),
        );
        let Some(a) = system::author(&state, code) else {
            d.fail(
                &format!("ingest state of {code}"),
                "missing from GetIngestState".into(),
            );
            continue;
        };
        d.check(
            &format!("ingest state of {code}"),
            &(
                a.applied_seq,
                a.applied_events,
                a.rejected_events,
                a.held,
                a.first_missing_seq,
                a.enrolled,
            ),
            &(
                position.applied_seq,
                in_stream.len() as u64,
                0,
                position.held_seqs.len() as u64,
                position.first_missing_seq,
                true,
            ),
        );
    }
    let known: BTreeSet<&str> = state.authors.iter().map(|a| a.author.as_str()).collect();
    let expected: BTreeSet<&str> = heads.keys().map(String::as_str).collect();
    d.check("authors in GetIngestState", &known, &expected);
    let dead = office
        .list_dead_letters(pb::ListDeadLettersRequest::default())
        .await?
        .into_inner();
    d.check("dead letters", &dead.dead_letters, &Vec::new());
    Ok(d)
}

/// Reads the stream, folds it and compares everything; returns the model, the messages, the
/// mismatches and the aggregator's answers.
pub async fn verify(
    js: &jetstream::Context,
    office: &mut Office,
    heads: &BTreeMap<String, u64>,
) -> anyhow::Result<Verified> {
    let messages = read_stream(js).await?;
    let model = fold(&messages);
    let mut diffs = compare_positions(office, &model, &messages, heads).await?;
    let (views, snapshot) = compare_views(office, &model).await?;
    diffs.extend(views);
    Ok(Verified {
        messages,
        model,
        diffs,
        snapshot,
    })
}

#[derive(Debug)]
pub struct Verified {
    pub messages: Vec<StreamMessage>,
    pub model: DistrictModel,
    pub diffs: Diffs,
    pub snapshot: Snapshot,
}

impl Verified {
    /// The data is not trivial: equal empty views would prove nothing.
    pub fn assert_substantial(&self, min_activities: i64) {
        let whole = self
            .model
            .plan_view(Period::WholePlan)
            .expect("the plan view of the reference");
        let activities: i64 = whole.rows.iter().map(|r| r.activities).sum();
        assert!(
            activities >= min_activities,
            "only {activities} live activities in the reference"
        );
        let cases = self
            .model
            .responsiveness(Period::WholePlan, None)
            .expect("responsiveness of the reference");
        assert!(cases.feedback.received > 0 && cases.feedback.answered > 0);
        assert!(
            !self
                .model
                .commendation(Period::WholePlan)
                .expect("commendation")
                .nominations
                .is_empty()
        );
    }
}
