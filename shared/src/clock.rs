//! Time, injectable so that tests can move it (lockout windows, send limits, timestamps).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(now: Timestamp) -> Self {
        ManualClock(AtomicI64::new(now))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn set(&self, now: Timestamp) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.load(Ordering::SeqCst)
    }
}

/// RFC 3339 in UTC (`2026-11-25T13:05:00Z`), the form every timestamp in the API takes.
pub fn rfc3339(ts: Timestamp) -> String {
    let (y, m, d, hh, mm, ss) = civil(ts);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// Calendar date and time of day in UTC.
pub fn civil(ts: Timestamp) -> (i64, u32, u32, u32, u32, u32) {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

/// Days since the epoch for a civil date (inverse of the date part of [`civil`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC instant of 01:00 on the last Sunday of a month, when Europe's clocks change.
fn last_sunday_0100_utc(year: i64, month: u32) -> Timestamp {
    // Only March and October are asked for; both have 31 days.
    let days = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: weekday 0 = Sunday when (days + 4) % 7 == 0.
    let weekday = (days + 4).rem_euclid(7);
    (days - weekday) * 86_400 + 3_600
}

/// Offset of Europe/Oslo from UTC at an instant, in seconds (CET, or CEST in summer).
pub fn oslo_offset(ts: Timestamp) -> i64 {
    let (year, ..) = civil(ts);
    let summer = ts >= last_sunday_0100_utc(year, 3) && ts < last_sunday_0100_utc(year, 10);
    if summer { 7_200 } else { 3_600 }
}

/// Wall-clock time in Oslo as `HH:MM`, for messages such as "prøv igjen kl. 14:05".
pub fn oslo_hhmm(ts: Timestamp) -> String {
    let (_, _, _, hh, mm, _) = civil(ts + oslo_offset(ts));
    format!("{hh:02}:{mm:02}")
}

/// Date and time in Oslo as `DD.MM.YYYY kl. HH:MM`, the Norwegian way.
pub fn oslo_datetime(ts: Timestamp) -> String {
    let (y, m, d, hh, mm, _) = civil(ts + oslo_offset(ts));
    format!("{d:02}.{m:02}.{y:04} kl. {hh:02}:{mm:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_608_000), "2026-11-25T12:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn oslo_switches_between_cet_and_cest() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let march_29_0059 = days_from_civil(2026, 3, 29) * 86_400 + 3_540;
        assert_eq!(oslo_offset(march_29_0059), 3_600);
        assert_eq!(oslo_offset(march_29_0059 + 60), 7_200);
        let october_25_0059 = days_from_civil(2026, 10, 25) * 86_400 + 3_540;
        assert_eq!(oslo_offset(october_25_0059), 7_200);
        assert_eq!(oslo_offset(october_25_0059 + 60), 3_600);
        assert_eq!(oslo_hhmm(1_795_608_000), "13:00");
        assert_eq!(oslo_datetime(1_795_608_000), "25.11.2026 kl. 13:00");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(100);
        assert_eq!(clock.now(), 100);
        clock.advance(3_600);
        assert_eq!(clock.now(), 3_700);
    }
}
