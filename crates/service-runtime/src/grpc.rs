//! The gRPC server every service runs: its services, `grpc.health.v1`, server reflection
//! (`v1` and `v1alpha`: many tools and client libraries still ask only for `v1alpha`), and
//! TCP_NODELAY on every accepted socket.
//!
//! Every server also gets, from its `[grpc]` settings, TLS with the district CA (required
//! outside the loopback interface, see [`crate::tls`]) and the limits of [`GrpcLimits`]: a
//! deadline per call, a bound on calls in progress (more are refused at once with
//! `RESOURCE_EXHAUSTED` rather than queued without end), a bound on streams per connection,
//! and HTTP/2 keep-alive so that a dead client's connection is closed.
//!
//! TCP_NODELAY matters: tonic ignores its own `tcp_nodelay` setting for a listener it is
//! given, and without it small replies wait ~40 ms for Nagle's algorithm (the agent's
//! latency bench showed it). [`GrpcServer::serve`] sets it on the accepted sockets.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::codegen::http::{Request, Response};
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tracing::debug;

use crate::tls::{ServerTlsFiles, TlsError, check_plaintext_server};

/// The `[grpc]` section of a service's settings. `PORT` is the service's default port on the
/// loopback interface, which is where a fresh install listens until told otherwise.
#[derive(Debug, Clone, Deserialize)]
pub struct GrpcSettings<const PORT: u16> {
    /// Where the service's clients connect.
    #[serde(default = "loopback::<PORT>")]
    pub listen: SocketAddr,
    /// The server's certificate and key; required unless `listen` is on the loopback
    /// interface.
    #[serde(default)]
    pub tls: Option<ServerTlsFiles>,
    #[serde(default)]
    pub limits: GrpcLimits,
}

impl<const PORT: u16> Default for GrpcSettings<PORT> {
    fn default() -> Self {
        Self {
            listen: loopback::<PORT>(),
            tls: None,
            limits: GrpcLimits::default(),
        }
    }
}

impl<const PORT: u16> GrpcSettings<PORT> {
    /// Settings listening on `listen`, with TLS when given, and the default limits.
    pub fn new(listen: SocketAddr, tls: Option<ServerTlsFiles>) -> Self {
        Self {
            listen,
            tls,
            limits: GrpcLimits::default(),
        }
    }
}

/// The `[grpc.limits]` of a server. The defaults suit a district of a few dozen schools on
/// one office server; a call that needs longer than the deadline (a whole-plan report on a
/// slow machine) is the one to raise it for.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct GrpcLimits {
    /// A unary call still unanswered after this many seconds ends with `CANCELLED`/
    /// `DEADLINE_EXCEEDED`; a client may ask for less with `grpc-timeout`.
    pub request_timeout_secs: u64,
    /// Calls in progress across all connections; one more is refused with
    /// `RESOURCE_EXHAUSTED` at once.
    pub max_concurrent_calls: usize,
    /// Concurrent HTTP/2 streams one connection may open.
    pub max_streams_per_connection: u32,
    /// Seconds between HTTP/2 pings to an idle client; it is dropped when one goes unanswered
    /// for `keepalive_timeout_secs`.
    pub keepalive_interval_secs: u64,
    pub keepalive_timeout_secs: u64,
}

impl Default for GrpcLimits {
    fn default() -> Self {
        Self {
            request_timeout_secs: 60,
            max_concurrent_calls: 256,
            max_streams_per_connection: 128,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
        }
    }
}

fn loopback<const PORT: u16>() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], PORT))
}

/// Why a gRPC server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the reflection service cannot read a file descriptor set: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A service's gRPC server, built up service by service, then served until shutdown.
#[derive(Debug, Default)]
pub struct GrpcServer {
    routes: RoutesBuilder,
    /// Names reported SERVING by `grpc.health.v1`.
    names: Vec<&'static str>,
    /// Encoded `FileDescriptorSet`s that reflection describes.
    descriptor_sets: Vec<&'static [u8]>,
    /// Where it listens, for the plaintext check; unset = loopback (a test's own server).
    listen: Option<SocketAddr>,
    tls: Option<ServerTlsFiles>,
    limits: GrpcLimits,
}

impl GrpcServer {
    /// A server whose reflection describes the services of `descriptor_set` (the encoded
    /// file descriptor set of the protos, e.g. `wire::FILE_DESCRIPTOR_SET`) and health.
    pub fn new(descriptor_set: &'static [u8]) -> Self {
        Self {
            descriptor_sets: vec![descriptor_set, tonic_health::pb::FILE_DESCRIPTOR_SET],
            ..Self::default()
        }
    }

    /// Takes TLS and limits from the service's `[grpc]` settings.
    pub fn configure<const PORT: u16>(mut self, settings: &GrpcSettings<PORT>) -> Self {
        self.listen = Some(settings.listen);
        self.tls = settings.tls.clone();
        self.limits = settings.limits;
        self
    }

    /// Serves `service`; health reports it SERVING as long as the server runs.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves on `listener` (TCP_NODELAY on every accepted socket) until `shutdown`
    /// resolves, then drains the calls in progress.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        self.serve_incoming(incoming, shutdown).await
    }

    /// [`Self::serve`] on sockets the caller accepts (a bench compares Nagle on and off).
    pub async fn serve_incoming(
        self,
        incoming: TcpIncoming,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let GrpcServer {
            mut routes,
            names,
            descriptor_sets,
            listen,
            tls,
            limits,
        } = self;
        let mut builder = tonic::transport::Server::builder();
        match &tls {
            Some(files) => builder = builder.tls_config(files.load()?)?,
            None => {
                if let Some(listen) = listen {
                    check_plaintext_server(listen)?;
                }
            }
        }
        let (health, health_service) = tonic_health::server::health_reporter();
        // The overall status ("") and each service's are SERVING from the start: whether a
        // service's data is current (the aggregator's lag, the agent's backlog) is told by its
        // own status calls, not by health.
        health.set_service_status("", ServingStatus::Serving).await;
        for name in &names {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let mut v1 = tonic_reflection::server::Builder::configure();
        let mut v1alpha = tonic_reflection::server::Builder::configure();
        for set in &descriptor_sets {
            v1 = v1.register_encoded_file_descriptor_set(set);
            v1alpha = v1alpha.register_encoded_file_descriptor_set(set);
        }
        routes
            .add_service(health_service)
            .add_service(v1.build_v1()?)
            .add_service(v1alpha.build_v1alpha()?);
        debug!(services = ?names, tls = tls.is_some(), ?limits, "gRPC server starting");
        // The listener is bound and the service's state loaded before this point: from here
        // on it answers, so a `Type=notify` unit may count it as started.
        crate::notify::ready();
        let shutdown = async move {
            shutdown.await;
            crate::notify::stopping();
        };
        builder
            .timeout(Duration::from_secs(limits.request_timeout_secs))
            .max_concurrent_streams(limits.max_streams_per_connection)
            .http2_keepalive_interval(Some(Duration::from_secs(limits.keepalive_interval_secs)))
            .http2_keepalive_timeout(Some(Duration::from_secs(limits.keepalive_timeout_secs)))
            .layer(tower::load_shed::LoadShedLayer::new())
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                limits.max_concurrent_calls,
            ))
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await?;
        Ok(())
    }
}
