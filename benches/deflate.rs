//! permessage-deflate cost for game-like JSON messages: bytes on the wire and CPU per
//! message, compressed and uncompressed, for the send path (compress + frame) and the
//! receive path (inflate + UTF-8 check), through the core API over ws:// in memory.
//!
//! Run: `cargo bench --bench deflate`

use std::time::Instant;

use wsmachine::{Client, Config, DeflateConfig, Poll};

#[path = "../tests/common/server.rs"]
mod server;
use server::answer;

fn game_json(i: usize) -> Vec<u8> {
    format!(
        r#"{{"type":"state","tick":{i},"players":[{{"id":1,"x":{:.2},"y":20.25,"hp":100,"name":"alice","team":"red"}},{{"id":2,"x":11.5,"y":{:.2},"hp":90,"name":"bob","team":"blue"}},{{"id":3,"x":12.5,"y":22.25,"hp":{},"name":"carol","team":"red"}}],"events":[{{"kind":"shot","from":1,"to":2}}]}}"#,
        10.0 + i as f64 * 0.1,
        21.0 - i as f64 * 0.05,
        80 - (i % 50)
    )
    .into_bytes()
}

/// A client brought to Open over ws:// by answering its upgrade request in memory.
fn open_client(deflate: Option<u32>) -> Client {
    let mut config = Config::new();
    if let Some(level) = deflate {
        config
            .set_deflate(DeflateConfig {
                enabled: true,
                level,
                ..DeflateConfig::default()
            })
            .unwrap();
    }
    let mut c = Client::new(&config, "ws://bench/").unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read_output(&mut buf).unwrap();
    let ext = if deflate.is_some() {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    c.offer_input(&answer(&buf[..n], ext)).unwrap();
    assert_eq!(c.state(), wsmachine::State::Open);
    c
}

/// Server frames for `msgs`, compressed with one context (context takeover) or not.
fn server_stream(msgs: &[Vec<u8>], deflate: bool) -> Vec<u8> {
    let mut z = flate2::Compress::new(flate2::Compression::new(6), false);
    let mut out = Vec::new();
    for m in msgs {
        let payload = if deflate {
            let mut p = Vec::with_capacity(m.len() + 64);
            let before = z.total_in();
            z.compress_vec(m, &mut p, flate2::FlushCompress::Sync)
                .unwrap();
            assert_eq!((z.total_in() - before) as usize, m.len());
            p.truncate(p.len() - 4);
            p
        } else {
            m.clone()
        };
        out.push(if deflate { 0xc1 } else { 0x81 });
        if payload.len() < 126 {
            out.push(payload.len() as u8);
        } else {
            out.push(126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&payload);
    }
    out
}

fn main() {
    const N: usize = 20_000;
    let msgs: Vec<Vec<u8>> = (0..N).map(game_json).collect();
    let payload: usize = msgs.iter().map(Vec::len).sum();
    println!(
        "{N} JSON game-state messages, {} bytes on average\n",
        payload / N
    );
    println!("| path | permessage-deflate | wire bytes/msg | ratio | CPU µs/msg |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for deflate in [None, Some(1), Some(6)] {
        // Send: compress + frame + mask.
        let mut c = open_client(deflate);
        let mut out = vec![0u8; 64 << 10];
        let mut wire = 0usize;
        let t = Instant::now();
        for m in &msgs {
            c.send_text(m).unwrap();
            loop {
                let n = c.read_output(&mut out).unwrap();
                if n == 0 {
                    break;
                }
                wire += n;
            }
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / N as f64;
        let label = match deflate {
            Some(level) => format!(
                "on (level {level}{}, context takeover)",
                if level == 1 { ", the default" } else { "" }
            ),
            None => "off".to_string(),
        };
        println!(
            "| send | {label} | {:.1} | {:.2} | {us:.2} |",
            wire as f64 / N as f64,
            wire as f64 / payload as f64
        );

        // Receive: deframe + inflate + UTF-8 validation.
        // The server side compresses at level 6 in every row.
        let stream = server_stream(&msgs, deflate.is_some());
        let mut c = open_client(deflate);
        let t = Instant::now();
        let mut got = 0;
        for chunk in stream.chunks(16 << 10) {
            let mut off = 0;
            while off < chunk.len() {
                off += c.offer_input(&chunk[off..]).unwrap();
                while let Poll::Message(_) = c.poll_message().unwrap() {
                    got += 1;
                }
            }
        }
        assert_eq!(got, N);
        let us = t.elapsed().as_secs_f64() * 1e6 / N as f64;
        println!(
            "| receive | {label} | {:.1} | {:.2} | {us:.2} |",
            stream.len() as f64 / N as f64,
            stream.len() as f64 / payload as f64
        );
    }
}
