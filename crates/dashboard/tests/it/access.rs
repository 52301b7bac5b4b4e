//! Signing in, in the browser: a page without a session goes to the sign-in page, five wrong
//! passwords lock the account, a one-time password must be changed first, a form without its
//! CSRF token is refused, and a school head sees their own school alone.

use anyhow::{Context as _, ensure};
use district_fixture::shared::SharedDistrict;
use test_harness::chromium::{Chromium, LoadedPage};
use wire::pb;

use crate::site::{Site, screenshot};

/// A fresh account of `role` on the shared district; its one-time password.
async fn account(
    district: &SharedDistrict,
    login: &str,
    full_name: &str,
    role: pb::AccountRole,
    school: &str,
) -> anyhow::Result<String> {
    let mut admin = district_fixture::credentials::accounts_client_with(
        &district.aggregator_url(),
        &district.credentials.admin,
    )
    .await?;
    Ok(admin
        .create_account(pb::CreateAccountRequest {
            login: login.into(),
            full_name: full_name.into(),
            role: role.into(),
            school: school.into(),
        })
        .await
        .with_context(|| format!("creating {login}"))?
        .into_inner()
        .one_time_password)
}

/// Signs in through the form of the page at `/dang-nhap`.
async fn sign_in(page: &mut LoadedPage, login: &str, password: &str) -> anyhow::Result<()> {
    page.fill("#login", login).await?;
    page.fill("#password", password).await?;
    page.click_and_wait("#dang-nhap").await
}

/// The schools' codes in the heat map.
async fn heat_map_schools(page: &LoadedPage) -> anyhow::Result<Vec<String>> {
    let cells = page.attributes("[data-school]").await?;
    let mut codes: Vec<String> = cells
        .iter()
        .filter_map(|a| a.get("data-school").cloned())
        .collect();
    codes.sort();
    codes.dedup();
    Ok(codes)
}

pub async fn without_a_session_the_sign_in_page(
    browser: &Chromium,
    district: &SharedDistrict,
) -> anyhow::Result<()> {
    let site = Site::serve(&district.aggregator_url(), &district.credentials.reporting).await?;
    let page = browser.open(&site.url("/day-du?ky=2018-2019")).await?;
    let location = page.location().await?;
    ensure!(
        location == "/dang-nhap?tiep=%2Fday%2Ddu%3Fky%3D2018%2D2019",
        "went to {location}"
    );
    ensure!(page.text("h1").await? == "Đăng nhập");
    ensure!(page.problems().is_empty(), "{:?}", page.problems());
    screenshot(&page, "dang-nhap").await?;
    page.close().await?;
    Ok(())
}

pub async fn five_wrong_passwords_lock(
    browser: &Chromium,
    district: &SharedDistrict,
) -> anyhow::Result<()> {
    let login = "khoa.thu";
    let one_time = account(
        district,
        login,
        "Đặng Văn Khoa",
        pb::AccountRole::Officer,
        "",
    )
    .await?;
    let site = Site::serve(&district.aggregator_url(), &district.credentials.reporting).await?;
    let mut page = browser.open(&site.url("/dang-nhap")).await?;
    for attempt in 1..=4 {
        sign_in(&mut page, login, "mat-khau-sai-roi").await?;
        let refusal = page.text("#loi-dang-nhap").await?;
        ensure!(
            refusal == "Tên đăng nhập hoặc mật khẩu không đúng.",
            "attempt {attempt}: {refusal}"
        );
        ensure!(page.location().await? == "/dang-nhap");
    }
    sign_in(&mut page, login, "mat-khau-sai-roi").await?;
    let locked = page.text("#loi-dang-nhap").await?;
    ensure!(locked.contains("tạm khóa"), "fifth attempt: {locked}");
    screenshot(&page, "dang-nhap-tam-khoa").await?;
    // The right password is refused while the lock lasts.
    sign_in(&mut page, login, &one_time).await?;
    ensure!(page.text("#loi-dang-nhap").await?.contains("tạm khóa"));
    ensure!(page.location().await? == "/dang-nhap");
    page.close().await?;
    Ok(())
}

pub async fn the_first_sign_in_changes_the_password_and_a_school_head_sees_their_school(
    browser: &Chromium,
    district: &SharedDistrict,
    school: &str,
    other: &str,
) -> anyhow::Result<()> {
    let login = "hieu.truong.thu";
    let one_time = account(
        district,
        login,
        "Lê Thị Mai",
        pb::AccountRole::SchoolHead,
        school,
    )
    .await?;
    let site = Site::serve(&district.aggregator_url(), &district.credentials.reporting).await?;
    let mut page = browser.open(&site.url("/dang-nhap")).await?;
    sign_in(&mut page, login, &one_time).await?;
    ensure!(
        page.location().await? == "/tai-khoan",
        "after the first sign-in: {}",
        page.location().await?
    );
    ensure!(
        page.text("#phai-doi-mat-khau")
            .await?
            .contains("mật khẩu dùng một lần"),
        "no notice"
    );
    screenshot(&page, "doi-mat-khau-lan-dau").await?;
    page.close().await?;

    // Any other page leads back to the account page until the password is changed.
    let plan = browser.open(&site.url("/")).await?;
    ensure!(plan.location().await? == "/tai-khoan");
    plan.close().await?;

    // A form without its CSRF token is refused, and changes nothing.
    let mut forged = browser.open(&site.url("/tai-khoan")).await?;
    forged
        .fill("form[action='/tai-khoan/mat-khau'] input[name=csrf]", "")
        .await?;
    forged.fill("#current_password", &one_time).await?;
    forged.fill("#new_password", "mua-lua-moi-2018").await?;
    forged.fill("#confirm_password", "mua-lua-moi-2018").await?;
    forged.click_and_wait("#doi-mat-khau").await?;
    let refused = forged.attributes("section.error-page").await?;
    ensure!(
        refused
            .first()
            .and_then(|a| a.get("data-status"))
            .map(String::as_str)
            == Some("403"),
        "a form without CSRF: {refused:?}"
    );
    ensure!(forged.text(".error-message").await?.contains("Biểu mẫu"));
    screenshot(&forged, "bieu-mau-khong-csrf").await?;
    forged.close().await?;

    // A wrong confirmation is shown beside its field; then the change goes through.
    let mut account_page = browser.open(&site.url("/tai-khoan")).await?;
    account_page.fill("#current_password", &one_time).await?;
    account_page
        .fill("#new_password", "mua-lua-moi-2018")
        .await?;
    account_page
        .fill("#confirm_password", "mua-lua-moi-2019")
        .await?;
    account_page.click_and_wait("#doi-mat-khau").await?;
    ensure!(
        account_page.text("#loi-confirm_password").await?
            == "Hai lần nhập mật khẩu mới không giống nhau."
    );
    account_page.fill("#current_password", &one_time).await?;
    account_page
        .fill("#new_password", "mua-lua-moi-2018")
        .await?;
    account_page
        .fill("#confirm_password", "mua-lua-moi-2018")
        .await?;
    account_page.click_and_wait("#doi-mat-khau").await?;
    ensure!(account_page.location().await? == "/tai-khoan/da-doi");
    account_page.close().await?;

    // The head's heat map is their school alone; another school's page is refused with 403,
    // and so are the dead letters, which are the district's.
    let plan = browser.open(&site.url("/?ky=2018-2019")).await?;
    ensure!(plan.status == Some(200), "the plan view: {:?}", plan.status);
    let schools = heat_map_schools(&plan).await?;
    ensure!(schools == [school], "the head's heat map shows {schools:?}");
    ensure!(
        plan.text("header .who")
            .await?
            .contains("Lê Thị Mai (Hiệu trưởng)"),
        "the header does not name the head"
    );
    let menu = plan.texts("nav.main a").await?;
    ensure!(
        !menu.iter().any(|m| m == "Thư lỗi" || m == "Nhập gói"),
        "menu {menu:?}"
    );
    screenshot(&plan, "hieu-truong-ke-hoach").await?;
    plan.close().await?;
    for path in [
        format!("/truong/{other}"),
        "/thu-loi".to_owned(),
        "/nhap-goi".to_owned(),
    ] {
        let page = browser.open(&site.url(&path)).await?;
        ensure!(page.status == Some(403), "{path}: HTTP {:?}", page.status);
        ensure!(page.text("h1").await? == "Không có quyền xem trang này");
        if path.starts_with("/truong") {
            screenshot(&page, "hieu-truong-truong-khac").await?;
        }
        page.close().await?;
    }
    let own = browser
        .open(&site.url(&format!("/truong/{school}")))
        .await?;
    ensure!(own.status == Some(200), "own school: {:?}", own.status);
    own.close().await?;
    Ok(())
}

pub async fn an_officer_sees_every_school(
    browser: &Chromium,
    site: &Site,
    expected: usize,
) -> anyhow::Result<()> {
    let page = browser.open(&site.url("/?ky=2018-2019")).await?;
    let schools = heat_map_schools(&page).await?;
    ensure!(
        schools.len() == expected,
        "the administrator's heat map shows {} schools: {schools:?}",
        schools.len()
    );
    page.close().await?;
    Ok(())
}

pub async fn the_administrator_creates_an_account_and_reads_the_audit_trail(
    browser: &Chromium,
    site: &Site,
) -> anyhow::Result<()> {
    let mut page = browser.open(&site.url("/quan-tri/tai-khoan")).await?;
    ensure!(page.status == Some(200), "accounts: {:?}", page.status);
    page.fill("#tao-tai-khoan input[name=login]", "Sai Tên")
        .await?;
    page.fill("#tao-tai-khoan input[name=full_name]", "Trần Thị Thu")
        .await?;
    page.click_and_wait("#tao-tai-khoan button").await?;
    let refusal = page.text("#loi-login").await?;
    ensure!(refusal.contains("Tên đăng nhập"), "a bad login: {refusal}");
    let typed: Vec<String> = page
        .attributes("#tao-tai-khoan input[name=full_name]")
        .await?
        .iter()
        .filter_map(|a| a.get("value").cloned())
        .collect();
    ensure!(
        typed == ["Trần Thị Thu"],
        "what was typed is kept: {typed:?}"
    );
    page.fill("#tao-tai-khoan input[name=login]", "thu.tran")
        .await?;
    page.click_and_wait("#tao-tai-khoan button").await?;
    let issued = page.text("#mat-khau-moi").await?;
    ensure!(issued.contains("thu.tran"), "{issued}");
    ensure!(
        page.texts("tr[data-login='thu.tran'] td").await?.len() > 3,
        "the new account is listed"
    );
    screenshot(&page, "quan-tri-tai-khoan").await?;
    page.close().await?;
    let audit = browser.open(&site.url("/quan-tri/nhat-ky")).await?;
    let actions = audit.attributes("tr[data-action]").await?;
    ensure!(
        actions
            .iter()
            .any(|a| a.get("data-action").map(String::as_str) == Some("account_created")),
        "the audit trail lacks the new account"
    );
    screenshot(&audit, "quan-tri-nhat-ky").await?;
    audit.close().await?;
    Ok(())
}
