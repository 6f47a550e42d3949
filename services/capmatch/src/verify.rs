//! `capmatch verify`: walks every store's hash chain offline and reports.

use std::path::Path;

use capmatch_eventstore::EventStore;

/// The stores below a data directory, one per service.
pub const STORES: [&str; 3] = ["needs", "offers", "matcher"];

/// Prints one line per store; `Ok(true)` when every chain that exists is intact.
pub fn run(data_dir: &Path) -> Result<bool, String> {
    let mut intact = true;
    let mut found = 0;
    for name in STORES {
        let dir = data_dir.join(name);
        if !dir.exists() {
            println!("{name:<8} no store at {}", dir.display());
            continue;
        }
        found += 1;
        let report =
            EventStore::verify_dir(&dir).map_err(|e| format!("{name}: cannot verify: {e}"))?;
        match &report.first_break {
            None => println!(
                "{name:<8} intact: {} events, head {} {}",
                report.verified,
                report.head.position,
                report.head.hash_hex()
            ),
            Some(b) => {
                intact = false;
                println!(
                    "{name:<8} BROKEN at position {}: {} ({} events verified before it)",
                    b.position, b.reason, report.verified
                );
            }
        }
    }
    if found == 0 {
        return Err(format!("no stores found in {}", data_dir.display()));
    }
    Ok(intact)
}
