//! One module per page.

pub mod account;
pub mod activities;
pub mod backup;
pub mod bundles;
pub mod commands;
pub mod evidence;
pub mod home;
pub mod inbox;
pub mod plan;
pub mod sign_in;
