//! The signed bundle (`.ttgoi`): one file that carries a school's events and their evidence
//! files to the district on a USB stick when the school has no connection, and the district's
//! signed reply (the school's receipt) back. See `docs/bundles.md` for the format.
//!
//! Why a format of its own rather than a zip or a tar: the file must be *verified before
//! anything in it is used* — a tampered, truncated or foreign bundle must change nothing at
//! the district — and it must be streamed (a month of a school's events with its photos is
//! large). A flat sequence of length-prefixed frames hashed as they pass, closed by one
//! ed25519 signature over the SHA-256 of every byte before it, gives both with nothing to
//! interpret before the signature checked: [`read`] reads everything, verifies, and only then
//! returns.
//!
//! This crate is pure: bytes in, bytes out, through `std::io::Read` / `Write`. It knows
//! neither the domain nor NATS: an event is the envelope's bytes exactly as the school stored
//! and published them (only `id`, `province`, `district`, `school` and `seq` are read, to check
//! order and address), and a reply's body is JSON bytes the caller encodes (the school's
//! receipt, `event_bus::receipts::Receipt`).
//!
//! Keys are NATS nkeys: the school signs with the seed of its NATS user, the district's
//! aggregator with its own, so no new key has to be issued, kept or revoked for bundles.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use chrono::{DateTime, Utc};
use nkeys::KeyPair;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The first bytes of every bundle.
pub const MAGIC: &[u8] = b"TRUYENTHONG-GOI 1\n";
/// The file name extension of a bundle.
pub const EXTENSION: &str = "ttgoi";

/// The frame kinds.
pub mod frame {
    /// The header JSON ([`super::Header`]), the first frame.
    pub const HEADER: u8 = b'H';
    /// One event: the envelope's bytes.
    pub const EVENT: u8 = b'E';
    /// One file: 64 lowercase hex characters of its SHA-256, then its content.
    pub const FILE: u8 = b'F';
    /// A reply's JSON body.
    pub const BODY: u8 = b'J';
    /// The signature, the last frame.
    pub const SIGNATURE: u8 = b'S';
}

/// Bytes of a frame's kind and length.
const FRAME_HEAD: usize = 5;

/// What a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A school's events and files, signed by the school.
    Events,
    /// The district's reply to one school, signed by the district's aggregator.
    Reply,
}

impl Kind {
    fn label_vi(self) -> &'static str {
        match self {
            Kind::Events => "gói dữ liệu của trường",
            Kind::Reply => "gói phản hồi của Phòng",
        }
    }
}

/// The first frame: what the bundle holds, from whom, signed by which key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub kind: Kind,
    pub province: String,
    pub district: String,
    /// The school whose events these are (or to whom the reply is).
    pub school: String,
    /// The first and last seq of the events (`to_seq = from_seq - 1` with none; 0 and 0 in a
    /// reply).
    pub from_seq: u64,
    pub to_seq: u64,
    pub event_count: u64,
    pub file_count: u64,
    pub created_at: DateTime<Utc>,
    /// The signer's nkey public key (`U…`).
    pub signer: String,
}

/// One evidence file in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Lowercase hex SHA-256 of `content`.
    pub sha256: String,
    pub content: Vec<u8>,
}

/// One event in a bundle: the envelope's bytes and what was read from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub id: Uuid,
    /// The envelope exactly as stored at the school.
    pub envelope: Vec<u8>,
}

/// A bundle read and verified by [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub header: Header,
    pub events: Vec<Event>,
    pub files: Vec<File>,
    /// A reply's JSON body.
    pub body: Option<Vec<u8>>,
}

/// The district's registered keys, as [`read`] asks them.
pub trait Keys: Sync {
    /// The registered (active) public key of `school`, if it has one.
    fn key_of(&self, school: &str) -> Option<String>;
    /// The name `public_key` is registered to, if any (a school code, or a service's name).
    fn owner_of(&self, public_key: &str) -> Option<String>;
}

/// Who must have signed.
#[derive(Clone, Copy)]
pub enum Trust<'a> {
    /// The registered key of the school the header names (an events bundle at the district).
    Registered(&'a dyn Keys),
    /// Exactly this public key (a reply at the school: the aggregator's key).
    Key(&'a str),
}

impl std::fmt::Debug for Trust<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::Registered(_) => f.write_str("Trust::Registered"),
            Trust::Key(key) => f.debug_tuple("Trust::Key").field(key).finish(),
        }
    }
}

/// What the reader expects of a bundle.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub kind: Kind,
    pub province: &'a str,
    pub district: &'a str,
    /// The school it must be of (or to); `None`: any school of the district.
    pub school: Option<&'a str>,
    pub trust: Trust<'a>,
}

/// Bounds on what a reader accepts, so that a hostile length cannot exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest event frame.
    pub max_event_bytes: usize,
    /// Largest file frame.
    pub max_file_bytes: usize,
    /// Largest header or body frame.
    pub max_meta_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // The district stream caps a message at 1 MiB.
            max_event_bytes: 1 << 20,
            max_file_bytes: 64 << 20,
            max_meta_bytes: 1 << 20,
        }
    }
}

/// Why a bundle could not be written, or was refused. The messages are for people
/// (Vietnamese); the variants say what to do.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("tệp này không phải gói dữ liệu Truyền thông (.ttgoi)")]
    NotABundle,
    #[error("gói dữ liệu bị cắt cụt ({what}): tệp chưa chép hết, hãy chép lại từ trường")]
    Truncated { what: String },
    #[error("gói dữ liệu hỏng: {reason}")]
    Malformed { reason: String },
    #[error("chữ ký của gói không hợp lệ: gói đã bị sửa đổi sau khi ký, không nhận")]
    SignatureInvalid,
    #[error(
        "gói được ký bằng khóa của {owner}, không phải khóa đã đăng ký của trường {school}; không nhận"
    )]
    SignedByOther { school: String, owner: String },
    #[error("gói được ký bằng một khóa không phải khóa đã đăng ký của trường {school}; không nhận")]
    SignedByUnknown { school: String },
    #[error("trường {school} chưa có khóa đăng ký tại Phòng; không kiểm tra được gói")]
    NotRegistered { school: String },
    #[error("gói phản hồi không được ký bằng khóa của Phòng; không nhận")]
    NotTheDistrict,
    #[error("gói này là {found}, không phải {expected}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("gói này của {found}, không phải của {expected}")]
    WrongPlace { expected: String, found: String },
    #[error("tệp đính kèm {name} không khớp mã băm của nó: nội dung đã bị thay đổi")]
    FileHash { name: String },
    #[error("thứ tự sự kiện bị đứt: cần số {expected}, gặp số {found}")]
    SeqGap { expected: u64, found: u64 },
    #[error("gói ghi {declared} {what} nhưng chứa {found}")]
    Count {
        what: &'static str,
        declared: u64,
        found: u64,
    },
    #[error("không ký được gói: {reason}")]
    Sign { reason: String },
    #[error("lỗi đọc/ghi gói: {0}")]
    Io(#[from] io::Error),
}

/// Lowercase hex SHA-256 of `bytes`: a file's name in a bundle.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

fn is_sha256_hex(name: &[u8]) -> bool {
    name.len() == 64 && name.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Writes a bundle to `out` frame by frame, hashing as it goes; [`Writer::finish`] signs.
///
/// The header is written first, so its counts and seqs must be known before the frames; the
/// writer refuses to sign a bundle whose frames do not match them.
pub struct Writer<W: Write> {
    out: W,
    hasher: Sha256,
    header: Header,
    events: u64,
    files: u64,
    body: bool,
}

impl<W: Write> std::fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("header", &self.header)
            .field("events", &self.events)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl<W: Write> Writer<W> {
    /// Starts a bundle: the magic line and the header. `header.signer` must be the public key
    /// of the key pair that will [`finish`](Writer::finish) it.
    pub fn new(out: W, header: Header) -> Result<Self, BundleError> {
        let json = serde_json::to_vec(&header).map_err(|e| BundleError::Malformed {
            reason: e.to_string(),
        })?;
        let mut writer = Self {
            out,
            hasher: Sha256::new(),
            header,
            events: 0,
            files: 0,
            body: false,
        };
        writer.raw(MAGIC)?;
        writer.frame(frame::HEADER, &[&json])?;
        Ok(writer)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), BundleError> {
        self.hasher.update(bytes);
        self.out.write_all(bytes)?;
        Ok(())
    }

    fn frame(&mut self, kind: u8, parts: &[&[u8]]) -> Result<(), BundleError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len).map_err(|_| BundleError::Malformed {
            reason: format!("một khung dài {len} byte, quá 4 GiB"),
        })?;
        let mut head = [0u8; FRAME_HEAD];
        head[0] = kind;
        head[1..].copy_from_slice(&len.to_be_bytes());
        self.raw(&head)?;
        for part in parts {
            self.raw(part)?;
        }
        Ok(())
    }

    /// Adds one event: the envelope's bytes exactly as stored.
    pub fn event(&mut self, envelope: &[u8]) -> Result<(), BundleError> {
        self.events += 1;
        self.frame(frame::EVENT, &[envelope])
    }

    /// Adds one file; its name is the SHA-256 of `content`.
    pub fn file(&mut self, content: &[u8]) -> Result<(), BundleError> {
        self.files += 1;
        let name = sha256_hex(content);
        self.frame(frame::FILE, &[name.as_bytes(), content])
    }

    /// Sets a reply's JSON body.
    pub fn body(&mut self, json: &[u8]) -> Result<(), BundleError> {
        self.body = true;
        self.frame(frame::BODY, &[json])
    }

    /// Signs with `key` (whose public key the header names) and returns the output.
    pub fn finish(mut self, key: &KeyPair) -> Result<W, BundleError> {
        let count = |what, declared, found| {
            if declared == found {
                Ok(())
            } else {
                Err(BundleError::Count {
                    what,
                    declared,
                    found,
                })
            }
        };
        count("sự kiện", self.header.event_count, self.events)?;
        count("tệp", self.header.file_count, self.files)?;
        if key.public_key() != self.header.signer {
            return Err(BundleError::Sign {
                reason: "khóa ký không phải khóa ghi trong phần đầu gói".into(),
            });
        }
        let digest = std::mem::take(&mut self.hasher).finalize();
        let signature = key.sign(&digest).map_err(|e| BundleError::Sign {
            reason: e.to_string(),
        })?;
        let len = u32::try_from(signature.len()).unwrap_or(u32::MAX);
        let mut head = [0u8; FRAME_HEAD];
        head[0] = frame::SIGNATURE;
        head[1..].copy_from_slice(&len.to_be_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(&signature)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The fields of an envelope the reader checks.
#[derive(Deserialize)]
struct EnvelopeHead {
    id: Uuid,
    province: String,
    district: String,
    school: String,
    seq: u64,
}

/// Reads `input` to its end into frames, hashing everything before the signature frame.
struct Frames {
    frames: Vec<(u8, Vec<u8>)>,
    digest: [u8; 32],
    signature: Vec<u8>,
}

fn read_exact_or(
    input: &mut impl Read,
    buf: &mut [u8],
    what: impl FnOnce() -> String,
) -> Result<bool, BundleError> {
    // Ok(false) at a clean end before the first byte.
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(BundleError::Truncated { what: what() }),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

fn read_frames(mut input: impl Read, limits: &Limits) -> Result<Frames, BundleError> {
    let mut hasher = Sha256::new();
    let mut magic = [0u8; MAGIC.len()];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    if magic[..got] != MAGIC[..got] || got == 0 {
        return Err(BundleError::NotABundle);
    }
    if got < MAGIC.len() {
        return Err(BundleError::Truncated {
            what: "dòng mở đầu".into(),
        });
    }
    hasher.update(magic);
    let mut frames = Vec::new();
    loop {
        let mut head = [0u8; FRAME_HEAD];
        let index = frames.len() + 1;
        if !read_exact_or(&mut input, &mut head, || {
            format!("phần đầu của khung thứ {index}")
        })? {
            return Err(BundleError::Truncated {
                what: "không có chữ ký ở cuối".into(),
            });
        }
        let kind = head[0];
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let max = match kind {
            frame::EVENT => limits.max_event_bytes,
            frame::FILE => limits.max_file_bytes.saturating_add(64),
            frame::HEADER | frame::BODY => limits.max_meta_bytes,
            frame::SIGNATURE => 64,
            other => {
                return Err(BundleError::Malformed {
                    reason: format!("khung thứ {index} có loại không biết ({other:#04x})"),
                });
            }
        };
        if len > max {
            return Err(BundleError::Malformed {
                reason: format!("khung thứ {index} dài {len} byte, quá giới hạn {max}"),
            });
        }
        let mut bytes = vec![0u8; len];
        if len > 0 && !read_exact_or(&mut input, &mut bytes, || format!("khung thứ {index}"))? {
            return Err(BundleError::Truncated {
                what: format!("khung thứ {index}"),
            });
        }
        if kind == frame::SIGNATURE {
            let mut rest = [0u8; 1];
            if read_exact_or(&mut input, &mut rest, String::new)? {
                return Err(BundleError::Malformed {
                    reason: "có dữ liệu sau chữ ký".into(),
                });
            }
            return Ok(Frames {
                frames,
                digest: hasher.finalize().into(),
                signature: bytes,
            });
        }
        hasher.update(head);
        hasher.update(&bytes);
        frames.push((kind, bytes));
    }
}

fn place(province: &str, district: &str, school: &str) -> String {
    format!("trường {school} ({district}, {province})")
}

/// Reads a whole bundle from `input`, verifies its signature and everything it says, and only
/// then returns it. Nothing of a refused bundle reaches the caller.
///
/// The order of the checks: the magic line, every frame complete up to the signature frame,
/// the signature valid under the key the header names (otherwise the bytes were changed),
/// the kind and the district/school expected, that key being the one `expect.trust` requires
/// (naming the school or service the key belongs to when it is another's), then the contents:
/// counts, every event of the header's school in gapless seq order from `from_seq` to
/// `to_seq`, each file's content hashing to its name.
pub fn read(input: impl Read, expect: &Expect<'_>, limits: &Limits) -> Result<Bundle, BundleError> {
    let Frames {
        frames,
        digest,
        signature,
    } = read_frames(input, limits)?;
    let mut frames = frames.into_iter();
    let header_bytes = match frames.next() {
        Some((frame::HEADER, bytes)) => bytes,
        _ => {
            return Err(BundleError::Malformed {
                reason: "khung đầu tiên không phải phần đầu gói".into(),
            });
        }
    };
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|e| BundleError::Malformed {
            reason: format!("phần đầu gói không đọc được: {e}"),
        })?;
    let signer =
        KeyPair::from_public_key(&header.signer).map_err(|_| BundleError::SignatureInvalid)?;
    signer
        .verify(&digest, &signature)
        .map_err(|_| BundleError::SignatureInvalid)?;

    // Signed as it is: now what it says.
    if header.kind != expect.kind {
        return Err(BundleError::WrongKind {
            expected: expect.kind.label_vi(),
            found: header.kind.label_vi(),
        });
    }
    let school_ok = expect.school.is_none_or(|s| s == header.school);
    if header.province != expect.province || header.district != expect.district || !school_ok {
        return Err(BundleError::WrongPlace {
            expected: place(
                expect.province,
                expect.district,
                expect.school.unwrap_or("bất kỳ"),
            ),
            found: place(&header.province, &header.district, &header.school),
        });
    }
    match expect.trust {
        Trust::Key(key) => {
            if header.signer != key {
                return Err(BundleError::NotTheDistrict);
            }
        }
        Trust::Registered(keys) => {
            let Some(registered) = keys.key_of(&header.school) else {
                return Err(BundleError::NotRegistered {
                    school: header.school.clone(),
                });
            };
            if registered != header.signer {
                return Err(match keys.owner_of(&header.signer) {
                    Some(owner) => BundleError::SignedByOther {
                        school: header.school.clone(),
                        owner: format!("trường {owner}"),
                    },
                    None => BundleError::SignedByUnknown {
                        school: header.school.clone(),
                    },
                });
            }
        }
    }

    let mut bundle = Bundle {
        header,
        events: Vec::new(),
        files: Vec::new(),
        body: None,
    };
    let mut names = HashSet::new();
    for (kind, mut bytes) in frames {
        match kind {
            frame::EVENT if bundle.header.kind == Kind::Events => {
                let head: EnvelopeHead =
                    serde_json::from_slice(&bytes).map_err(|e| BundleError::Malformed {
                        reason: format!(
                            "sự kiện thứ {} không đọc được: {e}",
                            bundle.events.len() + 1
                        ),
                    })?;
                let h = &bundle.header;
                if head.province != h.province
                    || head.district != h.district
                    || head.school != h.school
                {
                    return Err(BundleError::WrongPlace {
                        expected: place(&h.province, &h.district, &h.school),
                        found: place(&head.province, &head.district, &head.school),
                    });
                }
                let expected = h.from_seq + bundle.events.len() as u64;
                if head.seq != expected {
                    return Err(BundleError::SeqGap {
                        expected,
                        found: head.seq,
                    });
                }
                bundle.events.push(Event {
                    seq: head.seq,
                    id: head.id,
                    envelope: bytes,
                });
            }
            frame::FILE if bundle.header.kind == Kind::Events => {
                if bytes.len() < 64 || !is_sha256_hex(&bytes[..64]) {
                    return Err(BundleError::Malformed {
                        reason: "một tệp đính kèm không có tên là mã băm SHA-256".into(),
                    });
                }
                let content = bytes.split_off(64);
                let name = String::from_utf8_lossy(&bytes).into_owned();
                if sha256_hex(&content) != name {
                    return Err(BundleError::FileHash { name });
                }
                if names.insert(name.clone()) {
                    bundle.files.push(File {
                        sha256: name,
                        content,
                    });
                }
            }
            frame::BODY if bundle.header.kind == Kind::Reply && bundle.body.is_none() => {
                bundle.body = Some(bytes);
            }
            other => {
                return Err(BundleError::Malformed {
                    reason: format!(
                        "khung loại {:?} không thuộc {}",
                        char::from(other),
                        bundle.header.kind.label_vi()
                    ),
                });
            }
        }
    }
    let h = &bundle.header;
    let count = |what, declared: u64, found: usize| {
        if declared == found as u64 {
            Ok(())
        } else {
            Err(BundleError::Count {
                what,
                declared,
                found: found as u64,
            })
        }
    };
    count("sự kiện", h.event_count, bundle.events.len())?;
    count("tệp", h.file_count, bundle.files.len())?;
    if h.kind == Kind::Events {
        let last = h.from_seq + h.event_count;
        if h.from_seq == 0 || last != h.to_seq + 1 {
            return Err(BundleError::Malformed {
                reason: format!(
                    "phần đầu ghi số {} đến {} nhưng có {} sự kiện",
                    h.from_seq, h.to_seq, h.event_count
                ),
            });
        }
    } else if bundle.body.is_none() {
        return Err(BundleError::Malformed {
            reason: "gói phản hồi không có nội dung".into(),
        });
    }
    Ok(bundle)
}

/// The signing key in the text of an nkey seed file (`SU…` alone) or of a `.creds` file (the
/// seed between its `NKEY SEED` markers): the key of the identity's NATS user. `None` when the
/// text holds no user seed. The caller reads the file; the seed never leaves the key pair.
pub fn key_from_seed_text(text: &str) -> Option<KeyPair> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with("SU"))
        .find_map(|line| KeyPair::from_seed(line).ok())
}

/// The file name of an events bundle: `<school>-<from>-<to>-<yyyymmdd>.ttgoi`.
pub fn file_name(header: &Header) -> String {
    match header.kind {
        Kind::Events => format!(
            "{}-{}-{}-{}.{EXTENSION}",
            header.school,
            header.from_seq,
            header.to_seq,
            header.created_at.format("%Y%m%d")
        ),
        Kind::Reply => format!(
            "phan-hoi-{}-{}.{EXTENSION}",
            header.school,
            header.created_at.format("%Y%m%d")
        ),
    }
}

#[cfg(test)]
mod tests;
