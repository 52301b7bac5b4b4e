//! The agent's own gRPC services, called in-process: no socket, no TLS to configure, and the
//! same authentication and duty checks as every other client.

use std::convert::Infallible;

use tonic::body::Body;
use tonic::codegen::http;
use tonic::service::interceptor::InterceptedService;
use tower::util::BoxCloneSyncService;
use wire::bearer::Bearer;
use wire::pb::school_agent_client::SchoolAgentClient;
use wire::pb::school_staff_client::SchoolStaffClient;

/// The agent's `SchoolAgent` and `SchoolStaff` services as one in-process service (the
/// agent builds it from its gRPC routes).
pub type AgentTransport =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

pub type Agent = SchoolAgentClient<InterceptedService<AgentTransport, Bearer>>;
pub type Staff = SchoolStaffClient<InterceptedService<AgentTransport, Bearer>>;

/// The school's log, asked with `bearer` (a staff session, or none).
pub fn agent(transport: &AgentTransport, bearer: Bearer) -> Agent {
    // An evidence file comes back whole (`GetEvidence`): up to the domain's limit.
    SchoolAgentClient::with_interceptor(transport.clone(), bearer)
        .max_decoding_message_size(domain::evidence::MAX_FILE_SIZE as usize + 64 * 1024)
}

/// The staff accounts, asked with `bearer`.
pub fn staff(transport: &AgentTransport, bearer: Bearer) -> Staff {
    SchoolStaffClient::with_interceptor(transport.clone(), bearer)
}
