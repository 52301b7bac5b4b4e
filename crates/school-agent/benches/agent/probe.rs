//! What the agent says about itself through tracing — its debug events `batch committed`
//! (the writer's group commits) and `published` (the relay's batches), and its warnings —
//! gathered per phase by a tracing layer, without touching the agent's code.

use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Default, Clone)]
pub struct Probe {
    /// Events per committed writer batch.
    pub writer_batch_events: Vec<u64>,
    /// (when, events acked) of each relay batch.
    pub relay_batches: Vec<(Instant, u64)>,
    /// Relay or writer warnings and errors.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct BatchFigures {
    batches: usize,
    mean: f64,
    max: u64,
}

impl std::fmt::Display for BatchFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>6} commits, {:>5.1} ev/commit (max {})",
            self.batches, self.mean, self.max
        )
    }
}

impl Probe {
    pub fn writer_figures(&self) -> BatchFigures {
        let b = &self.writer_batch_events;
        let sum: u64 = b.iter().sum();
        BatchFigures {
            batches: b.len(),
            mean: if b.is_empty() {
                0.0
            } else {
                sum as f64 / b.len() as f64
            },
            max: b.iter().copied().max().unwrap_or(0),
        }
    }
}

#[derive(Clone, Default)]
pub struct ProbeLayer(Arc<Mutex<Probe>>);

impl ProbeLayer {
    pub fn take(&self) -> Probe {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    events: Option<u64>,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    error: String,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        match field.name() {
            "events" => self.events = Some(value),
            "first_seq" => self.first_seq = Some(value),
            "last_seq" => self.last_seq = Some(value),
            _ => {}
        }
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProbeLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let now = Instant::now();
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut probe = self.0.lock().unwrap();
        match fields.message.as_str() {
            "batch committed" => probe.writer_batch_events.push(fields.events.unwrap_or(0)),
            "published" => {
                if let (Some(first), Some(last)) = (fields.first_seq, fields.last_seq) {
                    probe.relay_batches.push((now, last + 1 - first));
                }
            }
            _ if *meta.level() <= tracing::Level::WARN => {
                probe.problems.push(format!(
                    "{} {}: {} {}",
                    meta.level(),
                    meta.target(),
                    fields.message,
                    fields.error
                ));
            }
            _ => {}
        }
    }
}
