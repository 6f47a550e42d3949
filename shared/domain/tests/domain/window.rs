//! Date windows.

use capmatch_domain::window::TimeWindow;
use chrono::NaiveDate;

fn window(start: Option<&str>, end: Option<&str>) -> TimeWindow {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    TimeWindow {
        start: start.map(date),
        end: end.map(date),
    }
}

#[test]
fn windows_sharing_a_day_overlap() {
    let first_half = window(Some("2026-01-01"), Some("2026-06-30"));
    assert!(first_half.overlaps(&window(Some("2026-06-30"), None)));
    assert!(!first_half.overlaps(&window(Some("2026-07-01"), Some("2026-12-31"))));
    assert!(!window(Some("2026-07-01"), None).overlaps(&first_half));
}

#[test]
fn an_open_ended_window_overlaps_everything_on_its_open_side() {
    let unbounded = TimeWindow::default();
    assert!(unbounded.overlaps(&window(Some("2030-01-01"), Some("2030-01-02"))));
    assert!(window(None, Some("2026-01-01")).overlaps(&window(None, Some("2020-01-01"))));
}
