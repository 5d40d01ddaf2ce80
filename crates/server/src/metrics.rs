//! Prometheus metrics, by hand: request counts by route and status, a
//! latency histogram per route, and the database pool.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// All metrics of this instance.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
}

impl Metrics {
    /// Records one finished request. `route` is the matched route template,
    /// never the raw path (no ids in metric labels).
    pub fn record(&self, method: &str, route: &str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry((method.to_string(), route.to_string())).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.count += 1;
        stats.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, pool: (u32, usize)) -> String {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP tessera_http_requests_total Requests served, by route and status.\n");
        out.push_str("# TYPE tessera_http_requests_total counter\n");
        for ((method, route), s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "tessera_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP tessera_http_request_duration_seconds Time to serve a request.\n");
        out.push_str("# TYPE tessera_http_request_duration_seconds histogram\n");
        for ((method, route), s) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "tessera_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "tessera_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "tessera_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "tessera_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        let (size, idle) = pool;
        out.push_str("# HELP tessera_db_connections Database connections, by state.\n");
        out.push_str("# TYPE tessera_db_connections gauge\n");
        let _ = writeln!(out, "tessera_db_connections{{state=\"idle\"}} {idle}");
        let _ = writeln!(out, "tessera_db_connections{{state=\"busy\"}} {}", (size as usize).saturating_sub(idle));
        out
    }
}
