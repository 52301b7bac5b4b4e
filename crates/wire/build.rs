//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and generates the prost
//! messages and tonic client and server. Also writes the encoded `FileDescriptorSet` for
//! server reflection.

use std::path::PathBuf;

use prost::Message;

const PROTO_ROOT: &str = "../../proto";
const FILES: &[&str] = &[
    "truyenthong/v1/common.proto",
    "truyenthong/v1/school_agent.proto",
    "truyenthong/v1/school_staff.proto",
    "truyenthong/v1/district_aggregator.proto",
    "truyenthong/v1/district_accounts.proto",
    "truyenthong/v1/reporting.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    // Source info carries the doc comments into the generated code; imports put
    // google/protobuf/timestamp.proto into the set, which reflection clients need.
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(FILES)?;
    let fds = compiler.file_descriptor_set();

    // Reflection needs no comments or spans: keep the embedded set small.
    let mut for_reflection = fds.clone();
    for file in &mut for_reflection.file {
        file.source_code_info = None;
    }
    std::fs::write(
        out_dir.join("truyenthong_descriptor.bin"),
        for_reflection.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
