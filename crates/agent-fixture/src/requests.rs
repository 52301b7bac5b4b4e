//! What staff send an agent in tests: the command header, the seed plan 114/KH-THCSAH (the
//! file shipped in `deploy/plans/`, through `demo_data::seed_plan`) and demo activities spread
//! over the plan's areas, topics, channels and dates.

use anyhow::Context as _;
use wire::pb;

use crate::Client;

/// THCS An Hòa's vice principal, a staff member tests sign in as (the head is
/// [`crate::HEAD_NAME`]).
pub const PERSON: &str = "Nguyễn Thị Hồng Nhung";

/// A command header for `school`. It names no actor: the agent takes the actor from the
/// signed-in account.
pub fn header_for(school: &str) -> Option<pb::CommandHeader> {
    Some(pb::CommandHeader {
        school: school.into(),
        actor: None,
    })
}

/// A command header for THCS An Hòa.
pub fn header() -> Option<pb::CommandHeader> {
    header_for(crate::SCHOOL)
}

/// The seed plan, as the agent's API takes it.
pub fn seed_plan() -> pb::Plan {
    wire::convert::plan_to_pb(&demo_data::seed_plan())
}

/// `school` adopts the seed plan (seq 1 on a new log).
pub async fn adopt_seed_plan_for(
    client: &mut Client,
    school: &str,
) -> anyhow::Result<pb::CommandReply> {
    Ok(client
        .adopt_plan(pb::AdoptPlanRequest {
            header: header_for(school),
            plan: Some(seed_plan()),
        })
        .await
        .context("AdoptPlan")?
        .into_inner())
}

/// THCS An Hòa adopts the seed plan.
pub async fn adopt_seed_plan(client: &mut Client) -> anyhow::Result<pb::CommandReply> {
    adopt_seed_plan_for(client, crate::SCHOOL).await
}

/// Topic codes of the seed plan, with their content area.
const TOPICS: &[(u32, &str)] = &[
    (1, "nq-29-nq-88"),
    (2, "phat-trien-doi-ngu"),
    (3, "huong-nghiep"),
    (3, "trai-nghiem-sang-tao"),
    (4, "ton-vinh-dien-hinh"),
    (5, "thu-tuc-hanh-chinh"),
    (6, "chi-dao-dia-phuong"),
];

const CHANNELS: &[pb::Channel] = &[
    pb::Channel::DistrictRadio,
    pb::Channel::SchoolPortal,
    pb::Channel::Facebook,
    pb::Channel::Meeting,
];

/// The `n`-th demo activity of `school` under the seed plan: spread over its areas, topics,
/// channels and the days from 1 November 2017.
pub fn activity_for(school: &str, n: u64) -> pb::RecordActivityRequest {
    let index = usize::try_from(n).unwrap_or(usize::MAX);
    let (area, topic) = TOPICS[index % TOPICS.len()];
    let day = chrono::NaiveDate::from_ymd_opt(2017, 11, 1).expect("a valid date")
        + chrono::Days::new(n % 1000);
    let reach = 100 + u32::try_from(n % 50).expect("below 50");
    pb::RecordActivityRequest {
        header: header_for(school),
        activity_id: String::new(),
        activity: Some(pb::Activity {
            date: day.to_string(),
            area,
            topic: topic.into(),
            channel: CHANNELS[index % CHANNELS.len()] as i32,
            title: format!("Tin bài số {n} về hoạt động của trường"),
            summary:
                "Đăng tin về hoạt động giáo dục của nhà trường cho phụ huynh và nhân dân xã An Hòa."
                    .into(),
            audience: "Phụ huynh học sinh".into(),
            reach: Some(reach),
            partner: String::new(),
            evidence_url: format!("https://thcsanhoa.tamnong.edu.vn/tin-tuc/{n}"),
            responsible: pb::Role::VicePrincipal as i32,
        }),
    }
}

/// The `n`-th demo activity of THCS An Hòa.
pub fn activity(n: u64) -> pb::RecordActivityRequest {
    activity_for(crate::SCHOOL, n)
}
