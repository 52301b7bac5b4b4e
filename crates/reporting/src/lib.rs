//! The district office's reports: the official report (báo cáo) of how the schools carry out
//! the communication plan, for any period of the plan, as Word, Excel, printable HTML, CSV and
//! JSON — served over gRPC (`truyenthong.v1.Reporting`) and HTTP, and written by the
//! `reporting bao-cao` command.
//!
//! A report flows through three stages, each in its own module:
//!
//! 1. [`gather`] — the only I/O: reads the district aggregator's gRPC API (never its tables)
//!    into a plain [`ReportData`];
//! 2. [`compose`] — pure: turns the data into a [`Report`] (Vietnamese text, tables, figures,
//!    and directions generated from the data);
//! 3. [`render`] — pure: writes the report in one [`Format`].
//!
//! [`run`] serves gRPC and HTTP on already-bound listeners (tests and the demo use port 0);
//! `main.rs` only reads the configuration and the command line.

pub mod cache;
pub mod cli;
pub mod compose;
pub mod config;
pub mod data;
pub mod error;
pub mod gather;
pub mod http;
pub mod model;
pub mod office;
pub mod render;
pub mod request;
pub mod server;
pub mod service;

pub use compose::{Issue, compose};
pub use data::ReportData;
pub use error::ReportError;
pub use gather::{AggregatorClient, gather};
pub use model::Report;
pub use render::{RenderedFile, render};
pub use request::{Format, ReportRequest};
pub use server::{Reporter, run};
