//! The TLS object's input path: TLS records from a hostile server to a `TlsClient`.
//!
//! A `TlsClient` for "localhost" reads out its ClientHello; then the payload is
//! offered as the server's TLS byte stream, split at the fuzzer-chosen chunk sizes
//! (see `wsmachine_fuzz::Input`), with plaintext read (into a buffer of 1 to 64
//! bytes, so that unread plaintext holds input back) and output drained between
//! chunks, and EOF at the end. Flags: `0x01` TLS 1.3 only, `0x02` trust the seed CA
//! (`seeds/ca.pem`) instead of the built-in roots, `0x10` small limits (512 bytes of
//! pending output), `0x20` write plaintext between chunks, `0x40` close after the
//! first chunk that leaves the connection open. Inputs share the `tls_records`
//! format, so that corpus seeds this one.
//!
//! Invariants: no panic; a read never reports more than the buffer; once failed,
//! every call returns the same error and the state stays Failed; offer_input never
//! takes more than offered; written plaintext stays within the pending-output limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::{Config, Error, TlsClient, TlsRead, TlsState, TlsVersion};
use wsmachine_fuzz::*;

const SEED_CA: &[u8] = include_bytes!("../seeds/ca.pem");

thread_local! {
    static CONFIGS: Vec<Config> = (0..8u8)
        .map(|i| {
            let mut c = config(if i & 4 != 0 { 0x10 } else { 0 });
            if i & 1 != 0 {
                c.set_min_tls_version(TlsVersion::Tls13);
            }
            if i & 2 != 0 {
                c.set_builtin_roots(false);
                c.add_root_pem(SEED_CA).expect("seed CA");
            }
            c
        })
        .collect();
}

struct Run {
    t: TlsClient,
    failure: Option<Error>,
    read_cap: usize,
    written: usize,
}

impl Run {
    fn after<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => {
                if let Some(f) = &self.failure {
                    // Only plaintext from before the failure may still come out.
                    assert_eq!(self.t.state(), TlsState::Failed, "after {f:?}");
                }
                Some(v)
            }
            Err(e) => {
                if self.t.state() == TlsState::Failed {
                    match &self.failure {
                        Some(f) => assert_eq!(&e, f, "sticky"),
                        None => self.failure = Some(e),
                    }
                }
                None
            }
        }
    }

    fn drain(&mut self) {
        let mut out = [0u8; 4096];
        while let Some(n) = { let r = self.t.read_output(&mut out); self.after(r) } {
            assert!(n <= out.len());
            if n == 0 {
                break;
            }
        }
    }

    fn read(&mut self) {
        let mut buf = [0u8; 64];
        let cap = self.read_cap;
        loop {
            let r = self.t.read(&mut buf[..cap]);
            match self.after(r) {
                Some(TlsRead::Data(n)) => assert!(n > 0 && n <= cap),
                _ => return,
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let i = (input.flags & 3) | if input.flags & 0x10 != 0 { 4 } else { 0 };
    CONFIGS.with(|configs| {
        let config = &configs[i as usize];
        let t = TlsClient::new(config, "localhost").expect("tls object");
        let mut run = Run {
            t,
            failure: None,
            read_cap: 1 + input.payload.first().map_or(0, |b| (b & 63) as usize),
            written: 0,
        };
        assert_eq!(run.t.state(), TlsState::Handshaking);
        let mut hello = [0u8; 4096];
        let n = run.t.read_output(&mut hello).expect("ClientHello");
        assert_eq!(hello.first(), Some(&0x16), "a handshake record");
        assert!(n > 0);
        let limit = config.limits().max_pending_output;
        let mut closed = false;

        for chunk in input.chunks() {
            let mut rest = chunk;
            while !rest.is_empty() {
                let r = run.t.offer_input(rest);
                match run.after(r) {
                    Some(used) => {
                        assert!(used <= rest.len());
                        rest = &rest[used..];
                        if used == 0 {
                            run.read();
                            if run.t.offer_input(rest).is_ok_and(|u| u == 0) {
                                break; // still held back: the reads took nothing
                            }
                        }
                    }
                    None => break,
                }
                run.read();
            }
            if input.flags & 0x20 != 0 {
                let r = run.t.write(chunk);
                if let Some(n) = run.after(r) {
                    run.written += n;
                    if run.t.state() == TlsState::Handshaking {
                        assert!(run.written <= limit, "buffered within the limit");
                    }
                }
            }
            if input.flags & 0x40 != 0 && !closed && run.t.state() == TlsState::Open {
                let r = run.t.close();
                run.after(r);
                closed = true;
            }
            run.read();
            run.drain();
        }
        let r = run.t.offer_input(&[]);
        run.after(r);
        run.read();
        run.drain();
        if let Some(f) = run.failure.clone() {
            assert_eq!(run.t.write(b"x").unwrap_err(), f);
            assert_eq!(run.t.offer_input(b"x").unwrap_err(), f);
            assert_eq!(run.t.state(), TlsState::Failed);
            assert_eq!(run.t.next_deadline(), None);
        }
    });
});
