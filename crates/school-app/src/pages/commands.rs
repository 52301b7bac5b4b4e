//! `/ghi`: every command the signed-in person's duties allow, as a form (`crate::forms`).
//! A refusal shows the domain's Vietnamese message beside the field it names, with what was
//! typed kept; a form the person's role may not use is not offered, and its address answers
//! 403 naming the duty.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::AppState;
use crate::error::PageError;
use crate::forms::{Context, Input, Refusal, SendError, Spec, Values, specs};
use crate::layout::{self, Nav};
use crate::pages::activities::{SchoolLog, load};
use crate::session::Staff;

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&domain::calendar::vietnam_offset())
        .date_naive()
}

fn context(log: &SchoolLog) -> Context<'_> {
    Context {
        plan: log.plan.as_ref(),
        activities: &log.activities,
        records: &log.records,
        today: today(),
    }
}

/// The forms this person may use.
pub async fn menu(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let log = load(&staff).await?;
    let role = staff.role();
    let body = html! {
        h1 { "Ghi vào sổ" }
        section.card {
            ul.forms {
                li { a href="/hoat-dong/moi" { "Ghi hoạt động truyền thông" } }
                @for spec in specs::ALL.iter().filter(|s| s.allowed(role)) {
                    li { a href={ "/ghi/" (spec.slug) } data-form=(spec.slug) { (spec.title) } " " span.muted { (spec.intro) } }
                }
            }
            p.muted { "Chỉ hiện các việc thuộc nhiệm vụ của " (role.label_vi()) " theo kế hoạch." }
        }
    };
    let tally = log.tally();
    let page = layout::page(
        &state.school_name,
        "Ghi vào sổ",
        Nav::Record,
        &staff,
        Some((&log.status, tally)),
        body,
    );
    Ok(Html(page.into_string()).into_response())
}

fn spec_for(slug: &str, staff: &Staff) -> Result<&'static Spec, PageError> {
    let spec = specs::by_slug(slug).ok_or(PageError::NotFound)?;
    if !spec.allowed(staff.role()) {
        return Err(PageError::Forbidden(format!(
            "«{}» thuộc nhiệm vụ «{}» của {}; tài khoản {} không có nhiệm vụ này.",
            spec.title,
            spec.duty.label_vi(),
            spec.duty
                .holders()
                .iter()
                .map(|r| r.label_vi())
                .collect::<Vec<_>>()
                .join(", "),
            staff.role().label_vi()
        )));
    }
    Ok(spec)
}

/// The form, with `values` typed and `refusal` beside its field.
fn form(
    spec: &Spec,
    context: &Context,
    staff: &Staff,
    values: &Values,
    refusal: Option<&Refusal>,
) -> Markup {
    let fields = (spec.fields)(context);
    let general = refusal.filter(|r| r.field.is_empty());
    html! {
        section.card {
            h1 { (spec.title) }
            p.muted { (spec.intro) }
            @if let Some(r) = general { p.notice.error id="loi-chung" { (r.message) } }
            form.record method="post" action={ "/ghi/" (spec.slug) } novalidate {
                input type="hidden" name="csrf" value=(staff.csrf());
                @for field in &fields {
                    @let error = refusal.filter(|r| r.field == field.name);
                    @let value = values.get(field.name).map(String::as_str).unwrap_or("");
                    div class=@if error.is_some() { "has-error" } {
                        label for=(field.name) { (field.label) @if field.optional { span.muted { " (không bắt buộc)" } } }
                        @match &field.input {
                            Input::Long => textarea id=(field.name) name=(field.name) { (value) },
                            Input::Date => input id=(field.name) name=(field.name) type="date" value=(value);,
                            Input::Choice(choices) => select id=(field.name) name=(field.name) {
                                @if choices.is_empty() { option value="" { "(chưa có gì để chọn)" } }
                                @for (code, label) in choices { option value=(code) selected[value == code] { (label) } }
                            },
                            Input::Number | Input::Money => input id=(field.name) name=(field.name) type="text" inputmode="numeric" value=(value);,
                            Input::Text => input id=(field.name) name=(field.name) type="text" value=(value);,
                        }
                        @if let Some(e) = error { p.field-error data-field=(field.name) id={ "loi-" (field.name) } { (e.message) } }
                    }
                }
                button.primary type="submit" id="luu" { "Lưu" }
                " " a href="/ghi" { "Huỷ" }
            }
        }
    }
}

fn page(state: &AppState, staff: &Staff, spec: &Spec, body: Markup, code: StatusCode) -> Response {
    let page = layout::page(
        &state.school_name,
        spec.title,
        Nav::Record,
        staff,
        None,
        body,
    );
    (code, Html(page.into_string())).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let spec = spec_for(&slug, &staff)?;
    let log = load(&staff).await?;
    let context = context(&log);
    let body = form(spec, &context, &staff, &Values::new(), None);
    Ok(page(&state, &staff, spec, body, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(values): Form<Values>,
) -> Result<Response, PageError> {
    staff.check_csrf(&state, values.get("csrf").map_or("", String::as_str))?;
    let spec = spec_for(&slug, &staff)?;
    let mut agent = staff.agent.clone();
    let refusal = match (spec.send)(&mut agent, &values).await {
        Ok(()) => return Ok(Redirect::to(&format!("/ghi?da-luu={}", spec.slug)).into_response()),
        Err(SendError::Typed(refusal)) => refusal,
        Err(SendError::Status(status)) => {
            if let Some(message) = wire::status::vietnamese_message(&status) {
                let log = load(&staff).await?;
                let field = wire::status::violated_field(&status)
                    .map(|path| spec.field_of(&context(&log), &path))
                    .unwrap_or_default();
                Refusal { field, message }
            } else {
                return Err(PageError::from_status(&status));
            }
        }
    };
    let log = load(&staff).await?;
    let body = form(spec, &context(&log), &staff, &values, Some(&refusal));
    Ok(page(
        &state,
        &staff,
        spec,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
