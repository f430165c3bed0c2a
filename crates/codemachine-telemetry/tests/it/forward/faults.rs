//! The status table of SPEC §3 and every fault of SPEC §7: nothing lost, nothing hot-looped,
//! nothing waited for longer than the timeout.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use codemachine_telemetry::forward::{
    Client, ForwardConfig, MAX_REQUESTS_PER_BATCH, MAX_RETRY_AFTER, Verdict,
};
use test_collector::{Collector, Fault};

use super::{TIMEOUT, client, config, id, send};

fn verdict_for(fault: Fault) -> (Verdict, usize) {
    let collector = Collector::https();
    collector.script([fault]);
    let report = send(&client(&collector), "b", 3);
    assert!(report.parts.iter().all(|p| p.lines == [0, 1, 2]));
    (report.verdict(), collector.requests().len())
}

#[test]
fn every_status_gets_the_verdict_of_the_table() {
    for status in [200, 201, 202, 204] {
        assert_eq!(
            verdict_for(Fault::Status(status)),
            (Verdict::Delivered { server_rejected: 0 }, 1)
        );
    }
    for status in [429, 502, 503, 504] {
        let (v, requests) = verdict_for(Fault::Status(status));
        assert!(
            matches!(v, Verdict::Retry { retry_after: None, ref reason } if reason.contains(&status.to_string())),
            "{status}: {v:?}"
        );
        assert_eq!(requests, 1, "no retry inside send_batch");
    }
    for status in [401, 403, 404] {
        let (v, _) = verdict_for(Fault::Status(status));
        assert!(
            matches!(v, Verdict::Rejected { pause: true, status: Some(s), .. } if s == status),
            "{status}: {v:?}"
        );
    }
    for status in [400, 405, 409, 415, 422, 500, 501] {
        let (v, requests) = verdict_for(Fault::Status(status));
        assert!(
            matches!(v, Verdict::Rejected { pause: false, status: Some(s), .. } if s == status),
            "{status}: {v:?}"
        );
        assert_eq!(requests, 1);
    }
}

#[test]
fn retry_after_is_read_in_seconds_and_dates_capped_and_garbage_ignored() {
    let http_date = |t: SystemTime| {
        // Formatted by hand: IMF-fixdate.
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let days = secs / 86_400;
        let (y, m, d) = civil(days);
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        format!(
            "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
            DAYS[(days % 7) as usize],
            MONTHS[m as usize - 1],
            secs % 86_400 / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    };
    let now = SystemTime::now();
    let cases: Vec<(String, Option<(u64, u64)>)> = vec![
        ("7".into(), Some((7, 7))),
        (http_date(now + Duration::from_secs(120)), Some((100, 121))),
        (http_date(now - Duration::from_secs(120)), None),
        ("soon, I promise".into(), None),
        ("-3".into(), None),
        ("99999999999".into(), Some((3600, 3600))),
        ("Fri, 31 Dec 9999 23:59:59 GMT".into(), Some((3600, 3600))),
    ];
    for (value, expected) in cases {
        for status in [429, 503] {
            let (v, _) = verdict_for(Fault::RetryAfter(status, value.clone()));
            let Verdict::Retry { retry_after, .. } = v else {
                panic!("{value}: {v:?}")
            };
            match expected {
                None => assert_eq!(retry_after, None, "{value}"),
                Some((lo, hi)) => {
                    let secs = retry_after.unwrap_or_else(|| panic!("{value}")).as_secs();
                    assert!((lo..=hi).contains(&secs), "{value}: {secs}");
                }
            }
        }
    }
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(3600));
}

fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u64::from(m <= 2), m, d)
}

#[test]
fn a_413_splits_the_batch_in_halves_until_each_part_fits() {
    let collector = Collector::builder().max_records_per_request(3).start();
    let report = send(&client(&collector), "batch", 10);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    // 10 → 5 + 5 → (2 + 3) + (2 + 3)
    let keys: Vec<_> = collector
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "batch",
            "batch.0",
            "batch.0.0",
            "batch.0.1",
            "batch.1",
            "batch.1.0",
            "batch.1.1"
        ]
    );
    let mut delivered: Vec<_> = collector
        .requests()
        .iter()
        .filter(|r| r.record_ids().len() <= 3)
        .flat_map(|r| r.record_ids())
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        (1..=10).map(id).collect::<Vec<_>>(),
        "every event once"
    );
    let parts: Vec<_> = report
        .parts
        .iter()
        .map(|p| (p.key.as_str(), p.lines.clone()))
        .collect();
    assert_eq!(
        parts,
        [
            ("batch.0.0", vec![0, 1]),
            ("batch.0.1", vec![2, 3, 4]),
            ("batch.1.0", vec![5, 6]),
            ("batch.1.1", vec![7, 8, 9]),
        ]
    );
}

#[test]
fn a_single_event_still_too_large_is_rejected_and_the_others_delivered() {
    let collector = Collector::https();
    // whole → 413; first half (1 event) → 413 again: rejected; second half (2 events) → 200.
    collector.script([Fault::Status(413), Fault::Status(413), Fault::Status(200)]);
    let report = send(&client(&collector), "b", 3);
    assert!(matches!(
        report.verdict(),
        Verdict::Rejected {
            pause: false,
            status: Some(413),
            ..
        }
    ));
    assert_eq!(report.parts.len(), 2);
    assert!(matches!(
        report.parts[0].verdict,
        Verdict::Rejected {
            status: Some(413),
            ..
        }
    ));
    assert_eq!(report.parts[0].lines, [0]);
    assert_eq!(
        report.parts[1].verdict,
        Verdict::Delivered { server_rejected: 0 }
    );
    assert_eq!(report.delivered_events(), 2);
}

#[test]
fn after_a_retry_verdict_the_rest_of_a_split_batch_waits_for_the_next_attempt() {
    let collector = Collector::https();
    collector.script([Fault::Status(413), Fault::RetryAfter(503, "30".into())]);
    let report = send(&client(&collector), "b", 4);
    assert_eq!(
        collector.requests().len(),
        2,
        "the second half is not sent to a collector that said 503"
    );
    assert!(
        matches!(report.verdict(), Verdict::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(30))
    );
    assert_eq!(
        report.parts.iter().map(|p| p.attempted).collect::<Vec<_>>(),
        [true, false]
    );
}

#[test]
fn a_collector_answering_413_to_everything_costs_a_bounded_number_of_requests() {
    let collector = Collector::builder().max_records_per_request(0).start();
    let report = send(&client(&collector), "b", 5000);
    assert!(
        report.requests <= MAX_REQUESTS_PER_BATCH,
        "{}",
        report.requests
    );
    assert!(
        matches!(report.verdict(), Verdict::Retry { .. }),
        "{:?}",
        report.verdict()
    );
    let lines: usize = report.parts.iter().map(|p| p.lines.len()).sum();
    assert_eq!(lines, 5000, "every event is in exactly one part");
}

#[test]
fn a_reset_connection_is_retried() {
    let (v, _) = verdict_for(Fault::Reset);
    assert!(
        matches!(v, Verdict::Retry { ref reason, .. } if reason.contains("connection")),
        "{v:?}"
    );
}

#[test]
fn a_stalled_collector_costs_one_timeout_then_retry() {
    let collector = Collector::https();
    collector.script([Fault::Stall(Duration::from_secs(10))]);
    let started = Instant::now();
    let report = send(&client(&collector), "b", 3);
    let elapsed = started.elapsed();
    assert!(
        matches!(report.verdict(), Verdict::Retry { ref reason, .. } if reason.contains("within 1500 ms")),
        "{:?}",
        report.verdict()
    );
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT + Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn a_slow_answer_body_is_cut_at_the_timeout_and_the_2xx_still_counts() {
    let collector = Collector::https();
    collector.script([Fault::SlowBody {
        len: 100,
        delay: Duration::from_millis(100),
    }]);
    let started = Instant::now();
    let report = send(&client(&collector), "b", 3);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(3));
}

#[test]
fn an_endless_answer_is_read_no_further_than_4_mib() {
    let collector = Collector::https();
    collector.script([Fault::HugeBody { declared: 10 << 30 }]);
    let started = Instant::now();
    let report = send(&client(&collector), "b", 3);
    assert_eq!(report.verdict(), Verdict::Delivered { server_rejected: 0 });
    assert!(started.elapsed() < Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    // 4 MiB read, plus what the kernel's socket buffers and TLS records held when we hung up.
    assert!(
        collector.huge_bytes_written() < 32 << 20,
        "{}",
        collector.huge_bytes_written()
    );
}

#[test]
fn malformed_answers_never_panic() {
    let (v, _) = verdict_for(Fault::Raw(b"garbage\r\n\r\n".to_vec()));
    assert!(matches!(v, Verdict::Retry { .. }), "{v:?}");
    let (v, _) = verdict_for(Fault::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: application/x-protobuf\r\n\r\n\xff\xff\xff\xff".to_vec()));
    assert_eq!(
        v,
        Verdict::Delivered { server_rejected: 0 },
        "an unreadable 2xx body still means delivered"
    );
    let (v, _) = verdict_for(Fault::Raw(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec(),
    ));
    assert_eq!(v, Verdict::Delivered { server_rejected: 0 });
    let (v, _) = verdict_for(Fault::Raw(
        b"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    assert!(
        matches!(
            v,
            Verdict::Rejected {
                status: Some(999),
                ..
            }
        ),
        "{v:?}"
    );
    let mut bomb = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
    bomb.extend(std::iter::repeat_n(b'a', 1 << 20));
    bomb.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let (v, _) = verdict_for(Fault::Raw(bomb));
    assert!(
        matches!(v, Verdict::Retry { .. }),
        "a 1 MiB header is not read: {v:?}"
    );
    let (v, _) = verdict_for(Fault::Raw(Vec::new()));
    assert!(matches!(v, Verdict::Retry { .. }), "{v:?}");
    let (v, _) = verdict_for(Fault::Reply {
        status: 503,
        headers: vec![("Retry-After".into(), "\u{1F600}".into())],
        body: vec![0xff; 10],
    });
    assert!(
        matches!(
            v,
            Verdict::Retry {
                retry_after: None,
                ..
            }
        ),
        "{v:?}"
    );
}

#[test]
fn error_messages_from_the_collector_are_kept_short_and_clean() {
    let (v, _) = verdict_for(Fault::Reply {
        status: 400,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: format!("bad\r\nX-Forged: 1\u{1b}]0;title\u{7}{}", "x".repeat(5000)).into_bytes(),
    });
    let Verdict::Rejected { reason, .. } = v else {
        panic!()
    };
    assert!(reason.starts_with("HTTP 400: bad  X-Forged: 1"), "{reason}");
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    assert!(reason.len() < 260);
}

#[test]
fn a_refused_connection_is_retried_at_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::new(
        &ForwardConfig::builder(format!("http://127.0.0.1:{port}"))
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let report = send(&c, "b", 2);
    assert!(
        matches!(report.verdict(), Verdict::Retry { ref reason, .. } if reason.contains("connect")),
        "{:?}",
        report.verdict()
    );
    assert!(started.elapsed() < TIMEOUT);
}

#[test]
fn an_unknown_host_is_retried() {
    let c = Client::new(
        &ForwardConfig::builder("https://collector.invalid")
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    )
    .unwrap();
    let report = send(&c, "b", 1);
    assert!(
        matches!(report.verdict(), Verdict::Retry { .. }),
        "{:?}",
        report.verdict()
    );
}

#[test]
fn plain_http_to_loopback_works_by_address_and_by_name() {
    let collector = Collector::plain_http();
    for url in [collector.url(), collector.localhost_url()] {
        let c = Client::new(
            &ForwardConfig::builder(url)
                .timeout(TIMEOUT)
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            send(&c, "b", 2).verdict(),
            Verdict::Delivered { server_rejected: 0 }
        );
    }
    let v6 = Collector::builder().plain_http().ipv6().start();
    let c = Client::new(
        &ForwardConfig::builder(v6.url())
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        send(&c, "b", 2).verdict(),
        Verdict::Delivered { server_rejected: 0 }
    );
    assert_eq!(collector.requests().len(), 2);
}

#[test]
fn connections_are_reused_across_batches() {
    let collector = Collector::https();
    let c = Client::new(&config(&collector).build().unwrap()).unwrap();
    for b in 0..5 {
        assert_eq!(
            send(&c, &format!("b{b}"), 3).verdict(),
            Verdict::Delivered { server_rejected: 0 }
        );
    }
    assert_eq!(collector.connections(), 1);
}

#[test]
fn a_black_hole_that_never_completes_the_handshake_costs_one_timeout() {
    // The kernel accepts the connection into the backlog; nobody ever answers.
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", hole.local_addr().unwrap().port());
    let c = Client::new(
        &ForwardConfig::builder(url)
            .timeout(TIMEOUT)
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    assert!(matches!(send(&c, "b", 1).verdict(), Verdict::Retry { .. }));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT + Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn a_deadline_bounds_a_whole_batch_whatever_the_collector_does() {
    use codemachine_telemetry::forward::send_batch_before;
    let collector = Collector::https();
    // 413, then every half stalls: without a deadline this would cost one timeout per request.
    collector.script([Fault::Status(413), Fault::Stall(Duration::from_secs(10))]);
    let started = Instant::now();
    let deadline = started + Duration::from_millis(700);
    let report = send_batch_before(&client(&collector), "b", &super::lines(4), deadline);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(700) + Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(
        matches!(report.verdict(), Verdict::Retry { .. }),
        "{:?}",
        report.verdict()
    );
    let past = send_batch_before(&client(&collector), "b", &super::lines(2), Instant::now());
    assert_eq!(past.requests, 0, "nothing starts after the deadline");
    assert!(!past.parts[0].attempted);
}
