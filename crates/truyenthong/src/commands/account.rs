//! `dang-nhap`, `dang-xuat`, `doi-mat-khau` and `tai-khoan`: the staff member's own session
//! and account, and — for the head — the school's staff accounts (`SchoolStaff`).
//!
//! Passwords are read without echo from the terminal (`rpassword`), or one per line from
//! standard input when it is not a terminal (scripts, tests); they are never printed, and the
//! session token only goes to the session file.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use serde_json::json;
use wire::pb;

use super::Ctx;
use crate::args::{AccountCommand, SignInArgs};
use crate::client;
use crate::error::CliError;
use crate::output::local_time;
use crate::session::Session;
use crate::vocab;

fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// One line of standard input, with `prompt` on the terminal when there is one.
fn read_line(prompt: &str) -> Result<String, CliError> {
    if stdin_is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::File(format!("Không đọc được từ bàn phím: {e}.")))?;
    if read == 0 {
        return Err(CliError::Usage(format!(
            "Thiếu dữ liệu nhập: {}",
            prompt.trim_end_matches([':', ' '])
        )));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A password: without echo on a terminal, else one line of standard input.
fn read_secret(prompt: &str) -> Result<String, CliError> {
    if stdin_is_terminal() {
        rpassword::prompt_password(prompt)
            .map_err(|e| CliError::File(format!("Không đọc được mật khẩu: {e}.")))
    } else {
        read_line(prompt)
    }
}

fn role_code(number: i32) -> String {
    wire::convert::role("role", number)
        .map(|r| r.code().to_string())
        .unwrap_or_default()
}

fn instant(ts: Option<&pb::Timestamp>) -> Option<String> {
    ts.and_then(wire::convert::datetime).map(local_time)
}

fn account_json(a: &pb::StaffAccount) -> serde_json::Value {
    json!({
        "login": a.login,
        "full_name": a.full_name,
        "role": role_code(a.role),
        "must_change_password": a.must_change_password,
        "enabled": a.enabled,
        "locked_until": a.locked_until.as_ref().and_then(wire::convert::datetime).map(|t| t.to_rfc3339()),
        "last_sign_in": a.last_sign_in.as_ref().and_then(wire::convert::datetime).map(|t| t.to_rfc3339()),
    })
}

fn account_line(a: &pb::StaffAccount) -> String {
    let mut notes = Vec::new();
    if !a.enabled {
        notes.push("đã khóa".to_string());
    }
    if let Some(until) = instant(a.locked_until.as_ref()) {
        notes.push(format!("tạm khóa đến {until}"));
    }
    if a.must_change_password {
        notes.push("chưa đổi mật khẩu dùng một lần".to_string());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" — {}", notes.join("; "))
    };
    format!(
        "{} — {} ({}){notes}",
        a.login,
        a.full_name,
        vocab::role_label_pb(a.role)
    )
}

const CHANGE_FIRST: &str = "Mật khẩu này là mật khẩu dùng một lần: chạy `truyenthong doi-mat-khau` để đổi trước khi làm việc.";

/// `dang-nhap`: asks the login (unless given) and the password, signs in and stores the
/// session for this agent.
pub async fn sign_in(ctx: &Ctx, args: &SignInArgs) -> Result<(), CliError> {
    let sessions = ctx.sessions()?;
    let login = match args.login.as_deref().map(str::trim) {
        Some(login) if !login.is_empty() => login.to_string(),
        _ => read_line("Tên đăng nhập: ")?.trim().to_string(),
    };
    let password = read_secret("Mật khẩu: ")?;
    let mut staff = client::connect_staff(&ctx.url, None).await?;
    let reply = staff
        .sign_in(pb::StaffSignInRequest {
            login: login.clone(),
            password,
        })
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    let account = reply.account.unwrap_or_default();
    sessions.put(Session {
        may_chu: ctx.url.clone(),
        ten_dang_nhap: account.login.clone(),
        vai_tro: role_code(account.role),
        token: reply.session_token,
    })?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "signed_in": account_json(&account),
            "expires_at": reply.expires_at.as_ref().and_then(wire::convert::datetime).map(|t| t.to_rfc3339()),
        }));
    } else {
        let mut text = format!(
            "Đã đăng nhập: {} ({}), tài khoản {}, vào máy chủ {}.",
            account.full_name,
            vocab::role_label_pb(account.role),
            account.login,
            ctx.url
        );
        if let Some(until) = instant(reply.expires_at.as_ref()) {
            text.push_str(&format!("\nPhiên hết hạn lúc {until} nếu không dùng tiếp."));
        }
        if account.must_change_password {
            text.push('\n');
            text.push_str(CHANGE_FIRST);
        }
        ctx.out.text(text);
    }
    Ok(())
}

/// `dang-xuat`: ends the session at the agent (when it can be reached) and forgets it here.
pub async fn sign_out(ctx: &Ctx) -> Result<(), CliError> {
    let sessions = ctx.sessions()?;
    let Some(session) = sessions.remove(&ctx.url)? else {
        ctx.out.text(format!(
            "Chưa đăng nhập vào máy chủ {}; không có gì để đăng xuất.",
            ctx.url
        ));
        return Ok(());
    };
    let ended = match client::connect_staff(&ctx.url, Some(&session.token)).await {
        Ok(mut staff) => staff.sign_out(pb::StaffSignOutRequest {}).await.is_ok(),
        Err(_) => false,
    };
    if ctx.out.json {
        ctx.out
            .json(&json!({"signed_out": session.ten_dang_nhap, "ended_at_agent": ended}));
    } else if ended {
        ctx.out
            .text(format!("Đã đăng xuất tài khoản {}.", session.ten_dang_nhap));
    } else {
        ctx.out.text(format!(
            "Đã xóa phiên của tài khoản {} trên máy này (không báo được cho máy chủ; phiên sẽ tự hết hạn).",
            session.ten_dang_nhap
        ));
    }
    Ok(())
}

/// `doi-mat-khau`: the current password, the new one twice.
pub async fn change_password(ctx: &Ctx) -> Result<(), CliError> {
    let session = ctx.session()?;
    let current = read_secret("Mật khẩu hiện tại: ")?;
    let new = read_secret("Mật khẩu mới: ")?;
    let again = read_secret("Nhập lại mật khẩu mới: ")?;
    if new != again {
        return Err(CliError::input(
            "Hai lần nhập mật khẩu mới không giống nhau; chưa đổi gì.",
            "new_password",
            "",
        ));
    }
    let mut staff = client::connect_staff(&ctx.url, Some(&session.token)).await?;
    let account = staff
        .change_password(pb::StaffChangePasswordRequest {
            current_password: current,
            new_password: new,
        })
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    if ctx.out.json {
        ctx.out
            .json(&json!({"password_changed": account_json(&account)}));
    } else {
        ctx.out.text(format!(
            "Đã đổi mật khẩu của tài khoản {}. Các phiên khác của tài khoản này đã kết thúc.",
            account.login
        ));
    }
    Ok(())
}

/// `tai-khoan`: who is signed in, or the head's account management.
pub async fn run(ctx: &Ctx, command: Option<AccountCommand>) -> Result<(), CliError> {
    let session = ctx.session()?;
    let mut staff = client::connect_staff(&ctx.url, Some(&session.token)).await?;
    match command {
        None => {
            let me = staff
                .who_am_i(pb::StaffWhoAmIRequest {})
                .await
                .map_err(|s| ctx.refused(s))?
                .into_inner();
            if ctx.out.json {
                ctx.out.json(&account_json(&me));
            } else {
                let mut text = format!("Đang đăng nhập: {}", account_line(&me));
                if me.must_change_password {
                    text.push('\n');
                    text.push_str(CHANGE_FIRST);
                }
                ctx.out.text(text);
            }
        }
        Some(AccountCommand::List) => {
            let accounts = staff
                .list_staff(pb::ListStaffRequest {})
                .await
                .map_err(|s| ctx.refused(s))?
                .into_inner()
                .accounts;
            if ctx.out.json {
                let list: Vec<_> = accounts.iter().map(account_json).collect();
                ctx.out.json(&json!({ "accounts": list }));
            } else {
                let lines: Vec<_> = accounts.iter().map(account_line).collect();
                ctx.out.text(format!(
                    "Tài khoản của trường ({}):\n{}",
                    accounts.len(),
                    lines.join("\n")
                ));
            }
        }
        Some(AccountCommand::Create {
            login,
            full_name,
            role,
        }) => {
            let role = vocab::role(&role).map_err(|m| CliError::option(m, "role", "--vai-tro"))?;
            let issued = staff
                .create_staff(pb::CreateStaffRequest {
                    login,
                    full_name,
                    role: pb::Role::from(role).into(),
                })
                .await
                .map_err(|s| ctx.refused(s))?
                .into_inner();
            issued_password(ctx, "Đã tạo tài khoản", &issued);
        }
        Some(AccountCommand::ResetPassword { login }) => {
            let issued = staff
                .reset_staff_password(pb::ResetStaffPasswordRequest { login })
                .await
                .map_err(|s| ctx.refused(s))?
                .into_inner();
            issued_password(ctx, "Đã đặt lại mật khẩu cho tài khoản", &issued);
        }
        Some(AccountCommand::Disable { login }) => {
            set_enabled(ctx, &mut staff, login, false).await?;
        }
        Some(AccountCommand::Enable { login }) => {
            set_enabled(ctx, &mut staff, login, true).await?;
        }
    }
    Ok(())
}

async fn set_enabled(
    ctx: &Ctx,
    staff: &mut wire::bearer::StaffClient,
    login: String,
    enabled: bool,
) -> Result<(), CliError> {
    let account = staff
        .set_staff_enabled(pb::SetStaffEnabledRequest { login, enabled })
        .await
        .map_err(|s| ctx.refused(s))?
        .into_inner();
    if ctx.out.json {
        ctx.out.json(&account_json(&account));
    } else if enabled {
        ctx.out
            .text(format!("Đã mở lại tài khoản {}.", account_line(&account)));
    } else {
        ctx.out.text(format!(
            "Đã khóa tài khoản {}; các phiên đang mở của tài khoản này đã kết thúc.",
            account_line(&account)
        ));
    }
    Ok(())
}

/// A one-time password, printed once, with what its owner must do.
fn issued_password(ctx: &Ctx, done: &str, issued: &pb::IssuedStaffPassword) {
    let account = issued.account.clone().unwrap_or_default();
    if ctx.out.json {
        ctx.out.json(&json!({
            "account": account_json(&account),
            "one_time_password": issued.one_time_password,
        }));
    } else {
        ctx.out.text(format!(
            "{done} {}.\nMật khẩu dùng một lần: {}\nMật khẩu này chỉ hiện một lần: hãy trao tận tay cho người dùng; họ phải đổi ở lần đăng nhập đầu tiên (truyenthong dang-nhap, rồi truyenthong doi-mat-khau).",
            account_line(&account),
            issued.one_time_password
        ));
    }
}
