//! The gRPC server every service runs: its services, `grpc.health.v1`, server reflection
//! (`v1` and `v1alpha`: many tools and client libraries still ask only for `v1alpha`), and
//! TCP_NODELAY on every accepted socket.
//!
//! TCP_NODELAY matters: tonic ignores its own `tcp_nodelay` setting for a listener it is
//! given, and without it small replies wait ~40 ms for Nagle's algorithm (the agent's
//! latency bench showed it). [`GrpcServer::serve`] sets it on the accepted sockets.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

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

/// The `[grpc]` section of a service's settings. `PORT` is the service's default port on the
/// loopback interface, which is where a fresh install listens until told otherwise.
#[derive(Debug, Clone, Deserialize)]
pub struct GrpcSettings<const PORT: u16> {
    /// Where the service's clients connect.
    #[serde(default = "loopback::<PORT>")]
    pub listen: SocketAddr,
}

impl<const PORT: u16> Default for GrpcSettings<PORT> {
    fn default() -> Self {
        Self {
            listen: loopback::<PORT>(),
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
}

/// A service's gRPC server, built up service by service, then served until shutdown.
#[derive(Debug, Default)]
pub struct GrpcServer {
    routes: RoutesBuilder,
    /// Names reported SERVING by `grpc.health.v1`.
    names: Vec<&'static str>,
    /// Encoded `FileDescriptorSet`s that reflection describes.
    descriptor_sets: Vec<&'static [u8]>,
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
        } = self;
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
        debug!(services = ?names, "gRPC server starting");
        tonic::transport::Server::builder()
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await?;
        Ok(())
    }
}
