//! One module per page.

pub mod account;
pub mod activities;
pub mod home;
pub mod sign_in;
