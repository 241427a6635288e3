//! The request log, read back by the CLI: `stats` and `requests` report exactly what clients saw,
//! from the data folder the config names; a missing log or id is a one-line error; and a gateway
//! killed with SIGKILL under load leaves a sound database holding every committed request.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_core::store::{RequestFilter, Store};
use switchyard_testkit::{Dialect, FakeUpstream, Script};

use crate::{Served, cli, cli_json, client, config_for, write_config};

const ID_HEADER: &str = "x-switchyard-request-id";

/// Posts a chat request; returns the status and the request id the gateway gave it.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
async fn chat(http: &reqwest::Client, root: &str, body: &Value) -> (u16, String) {
    let res = http
        .post(format!("{root}/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let id = res.headers()[ID_HEADER].to_str().unwrap().to_owned();
    res.bytes().await.unwrap();
    (status, id)
}

/// Polls `/admin/requests` until it lists `n` requests (the log is written asynchronously).
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
async fn wait_for_logged(http: &reqwest::Client, root: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = http
            .get(format!("{root}/admin/requests"))
            .bearer_auth(crate::ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["requests"].as_array().map_or(0, Vec::len) >= n {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "never logged {n} requests: {page}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn stats_and_requests_report_what_clients_saw() {
    let upstream = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    // One round, so the scripted upstream error reaches the client instead of being retried.
    let config = write_config(
        home.path(),
        &config_for(
            &upstream.base_url(),
            &format!(
                "data_dir = {:?}\n[retry]\nrounds = 1\n",
                data.display().to_string()
            ),
        ),
    );
    let served = Served::start(home.path(), &config).await;
    let http = client();

    let first = json!({"model": "m", "messages": [{"role": "user", "content": "first question"}]});
    let (ok_status, ok_id) = chat(&http, &served.root, &first).await;
    assert_eq!(ok_status, 200);
    upstream.push(Script::Error {
        status: 503,
        message: "upstream is down".into(),
        retry_after: None,
        error_type: None,
    });
    let second =
        json!({"model": "m", "messages": [{"role": "user", "content": "second question"}]});
    let (err_status, err_id) = chat(&http, &served.root, &second).await;
    assert!(err_status >= 500, "{err_status}");

    // The CLI reads beside a running gateway.
    wait_for_logged(&http, &served.root, 2).await;
    let page = cli_json(home.path(), &["requests", "--json"]);
    assert_eq!(page["requests"].as_array().unwrap().len(), 2, "{page}");

    served.stop().await;

    // With the gateway gone, and from elsewhere: `--config` says where the data folder is.
    let elsewhere = tempfile::tempdir().unwrap();
    let config_arg = config.to_str().unwrap();
    for (home, extra) in [
        (home.path(), &[][..]),
        (elsewhere.path(), &["--config", config_arg][..]),
    ] {
        let stats = cli_json(home, &[&["stats", "--json"][..], extra].concat());
        assert_eq!(stats["window"], "24h");
        assert_eq!(stats["total"]["requests"], 2, "{stats}");
        assert_eq!(stats["total"]["errors"], 1, "{stats}");
        assert_eq!(stats["total"]["client_closed"], 0, "{stats}");
        assert_eq!(stats["by_model"][0]["key"], "m", "{stats}");
        assert_eq!(stats["by_model"][0]["requests"], 2, "{stats}");

        let page = cli_json(home, &[&["requests", "--json"][..], extra].concat());
        let rows = page["requests"].as_array().unwrap();
        let seen: Vec<(&str, u64, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap(),
                    r["status"].as_u64().unwrap(),
                    r["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (err_id.as_str(), u64::from(err_status), "error"),
                (ok_id.as_str(), 200, "ok"),
            ],
            "newest first: {page}"
        );
        assert_eq!(page["next_cursor"], Value::Null);
    }

    // Filters reach the store.
    let errors = cli_json(
        home.path(),
        &["requests", "--json", "--status", &err_status.to_string()],
    );
    assert_eq!(errors["requests"][0]["id"], err_id.as_str(), "{errors}");
    assert_eq!(errors["requests"].as_array().unwrap().len(), 1);
    let one = cli_json(
        home.path(),
        &["requests", "--json", "--limit", "1", "--since", "1h"],
    );
    assert_eq!(one["requests"][0]["id"], err_id.as_str(), "{one}");
    assert!(one["next_cursor"].is_string(), "{one}");

    // One request in full: the body the client sent, and the attempt that failed.
    let detail = cli_json(home.path(), &["requests", "show", &ok_id, "--json"]);
    assert_eq!(detail["request_body"], first, "{detail}");
    assert_eq!(detail["request_truncated"], false);
    let detail = cli_json(home.path(), &["requests", "show", &err_id, "--json"]);
    assert_eq!(detail["request_body"], second, "{detail}");
    assert_eq!(detail["attempts"][0]["target"], "up/m", "{detail}");

    let out = cli(home.path(), &["requests", "show", &ok_id]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("id        {ok_id}")), "{stdout}");
    assert!(
        stdout.contains("\"content\": \"first question\""),
        "{stdout}"
    );
    assert!(stdout.contains("You said: first question"), "{stdout}");

    // The human-readable views.
    let out = cli(home.path(), &["requests"]);
    let (stdout, _) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[1].contains(&err_id) && lines[1].contains(&format!(" {err_status} ")));
    assert!(
        lines[2].contains(&ok_id) && lines[2].contains(" 200 ") && lines[2].contains("m → up/m")
    );
    let out = cli(home.path(), &["stats"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    for expected in ["requests       2", "errors         1", "MODEL", "PROVIDER"] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }

    // An unknown id: exit 1 and one clear line.
    let out = cli(
        home.path(),
        &["requests", "show", "req_000000000000nothere00"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: no request \"req_000000000000nothere00\" in the log at ")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_missing_log_is_one_clear_line() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["stats"][..],
        &["stats", "--json"][..],
        &["requests"][..],
        &["requests", "show", "req_1"][..],
    ] {
        let out = cli(home.path(), args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        let db = home.path().join("switchyard.db");
        assert_eq!(
            stderr,
            format!(
                "error: no request log yet at {}: the gateway has not served a request\n",
                db.display()
            ),
            "{args:?}"
        );
    }

    // The config's data_dir wins over SWITCHYARD_HOME.
    let data = home.path().join("elsewhere");
    let config = write_config(
        home.path(),
        &format!("data_dir = {:?}\n", data.display().to_string()),
    );
    let out = cli(
        home.path(),
        &["stats", "--config", config.to_str().unwrap()],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(&data.join("switchyard.db").display().to_string()),
        "{stderr}"
    );

    // Bad arguments are usage errors (exit 2), caught before any file is opened.
    for args in [
        &["stats", "--window", "3w"][..],
        &["requests", "--since", "yesterday"][..],
        &["requests", "--limit", "0"][..],
        &["requests", "--model", "m", "show", "req_1"][..],
    ] {
        let out = cli(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out).1);
    }
}

/// Every id in the log, paging with `next_cursor`.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
async fn all_ids(store: &Store) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_requests(&RequestFilter {
                limit: Some(500),
                cursor: cursor.take(),
                ..RequestFilter::default()
            })
            .await
            .unwrap();
        ids.extend(page.requests.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_committed_request() {
    let upstream = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    upstream.set_recording(false);
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), &config_for(&upstream.base_url(), ""));
    let served = Served::start(home.path(), &config).await;
    let http = client();

    // 16 clients in a loop until the gateway dies; each success keeps its id and when it ended.
    let sent = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..16 {
        let (http, root) = (http.clone(), served.root.clone());
        let (sent, in_flight) = (sent.clone(), in_flight.clone());
        clients.push(tokio::spawn(async move {
            let mut done: Vec<(String, Instant)> = Vec::new();
            for n in 0.. {
                let body = json!({"model": "m", "messages": [{"role": "user", "content": format!("client {c} request {n}")}]});
                sent.fetch_add(1, Ordering::SeqCst);
                in_flight.fetch_add(1, Ordering::SeqCst);
                let result = async {
                    let res = http
                        .post(format!("{root}/v1/chat/completions"))
                        .json(&body)
                        .send()
                        .await?;
                    let ok = res.status() == 200;
                    let id = res.headers().get(ID_HEADER).cloned();
                    res.bytes().await?;
                    Ok::<_, reqwest::Error>((ok, id))
                }
                .await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                match result {
                    Ok((true, Some(id))) => {
                        done.push((id.to_str().unwrap().to_owned(), Instant::now()));
                    }
                    Ok(_) => {}
                    // The gateway is gone.
                    Err(_) => break,
                }
            }
            done
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let busy = in_flight.load(Ordering::SeqCst);
    let killed_at = Instant::now();
    served.signal("KILL");
    let (status, stderr) = served.wait().await;
    assert!(!status.success(), "{status:?}: {stderr}");
    let mut completed: Vec<(String, Instant)> = Vec::new();
    for c in clients {
        completed.extend(c.await.unwrap());
    }
    let sent = sent.load(Ordering::SeqCst);
    assert!(busy > 0, "no request was in flight at the kill");
    assert!(
        completed.len() > 50,
        "only {} requests completed",
        completed.len()
    );

    // The database is sound and holds every request that ended well before the kill.
    let store = Store::open_read_only(home.path()).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let rows = store.count_requests().await.unwrap();
    let rows = usize::try_from(rows).unwrap();
    assert!(
        rows > 0 && rows <= sent,
        "{rows} rows for {sent} requests sent"
    );
    let logged = all_ids(&store).await;
    assert_eq!(logged.len(), rows);
    let settled = killed_at - Duration::from_millis(500);
    let missing: Vec<Duration> = completed
        .iter()
        .filter(|(id, at)| *at < settled && !logged.contains(id))
        .map(|(_, at)| killed_at - *at)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} requests answered over 500 ms before the kill are not in the log \
         ({rows} rows); the oldest ended {:?} before it",
        missing.len(),
        completed.len(),
        missing.iter().max()
    );
    store.close().await;

    // The CLI reads the crashed gateway's log as it is.
    let stats = cli_json(home.path(), &["stats", "--json"]);
    assert_eq!(stats["total"]["requests"], rows, "{stats}");

    // And the gateway starts again on the same folder, serves, and logs.
    restart_serves_and_logs(home.path(), &config, &http, rows).await;
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
async fn restart_serves_and_logs(
    home: &Path,
    config: &Path,
    http: &reqwest::Client,
    before: usize,
) {
    let served = Served::start(home, config).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "after the crash"}]});
    let (status, id) = chat(http, &served.root, &body).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = http
            .get(format!("{}/admin/requests?limit=1", served.root))
            .bearer_auth(crate::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        if page["requests"][0]["id"] == id.as_str() {
            break;
        }
        assert!(Instant::now() < deadline, "{id} never logged: {page}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    served.stop().await;
    let store = Store::open_read_only(home).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    assert_eq!(
        usize::try_from(store.count_requests().await.unwrap()).unwrap(),
        before + 1
    );
    store.close().await;
}
