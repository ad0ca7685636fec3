//! Routine suppression of rule alerts: a (user, rule) that fires on most of the user's
//! active days with similar magnitude is that account's routine (a search crawler, a
//! nightly export), not an incident. Also an allowlist with stated reasons.
//!
//! Alerts are taken in `first_seen` order and each is judged only on *earlier* alerts and
//! earlier activity, so the first days of a routine account still alert unless state from
//! earlier runs exists (see `store`) or the account is allowlisted.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use confwatch_event::alert::Alert;
use serde::{Deserialize, Serialize};

use crate::engine::EngineState;
use crate::stats::{Ring, median};

/// When a repeated (user, rule) counts as routine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoutineConfig {
    /// Earlier distinct days on which the (user, rule) fired.
    pub min_prior_days: usize,
    /// Share of the user's active days since the first firing on which it fired.
    pub min_share: f64,
    /// The alert's magnitude (aggregated value) must lie within this factor of the median
    /// of earlier firings.
    pub magnitude_factor: f64,
    /// Firing days remembered per (user, rule).
    pub history_days: usize,
    /// (user, rule) pairs remembered at most (memory bound).
    pub max_pairs: usize,
}

impl Default for RoutineConfig {
    fn default() -> RoutineConfig {
        RoutineConfig {
            min_prior_days: 2,
            min_share: 0.6,
            magnitude_factor: 3.0,
            history_days: 60,
            max_pairs: 100_000,
        }
    }
}

/// One allowlist entry: alerts of `user` (and `rule`, or every rule when `None`) are
/// suppressed with `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub reason: String,
}

/// Parses allowlist text: one entry per line, `USER RULE REASON…` where RULE is a rule id
/// or `*`; `#` starts a comment. Lines without a reason are rejected: an allowlist entry
/// must say why.
pub fn parse_allowlist(text: &str) -> Result<Vec<AllowEntry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let user = parts.next().unwrap_or("").trim();
        let rule = parts.next().unwrap_or("").trim();
        let reason = parts.next().unwrap_or("").trim();
        if user.is_empty() || rule.is_empty() || reason.is_empty() {
            return Err(format!(
                "line {}: expected `USER RULE|* REASON`, got `{line}`",
                i + 1
            ));
        }
        out.push(AllowEntry {
            user: user.to_string(),
            rule: (rule != "*").then(|| rule.to_string()),
            reason: reason.to_string(),
        });
    }
    Ok(out)
}

/// One earlier firing: the day and its magnitude.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Firing {
    pub date: NaiveDate,
    pub magnitude: f64,
}

/// What routine suppression remembers (saved with the engine state).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoutineMemory {
    /// `user \u{1f} rule` → firing days.
    pub firings: BTreeMap<String, Ring<Firing>>,
}

/// Routine suppression: configuration, allowlist and memory of earlier firings.
#[derive(Debug, Clone, Default)]
pub struct RoutineHistory {
    pub config: RoutineConfig,
    pub allowlist: Vec<AllowEntry>,
    pub memory: RoutineMemory,
    /// Active days per user (from the behaviour engine), to tell "most active days".
    active: BTreeMap<String, Vec<NaiveDate>>,
}

impl RoutineHistory {
    pub fn new(config: RoutineConfig, allowlist: Vec<AllowEntry>, memory: RoutineMemory) -> Self {
        RoutineHistory {
            config,
            allowlist,
            memory,
            active: BTreeMap::new(),
        }
    }

    /// Takes users' active days from the engine's learnt state (closed days only).
    pub fn with_activity(mut self, state: &EngineState) -> Self {
        self.set_activity(state);
        self
    }

    /// Replaces the users' active days with those of `state`.
    pub fn set_activity(&mut self, state: &EngineState) {
        self.active = state
            .users
            .iter()
            .map(|(u, b)| (u.clone(), b.days.iter().map(|d| d.date).collect()))
            .collect();
    }

    fn allowed(&self, a: &Alert) -> Option<String> {
        let user = a.user.as_deref()?;
        self.allowlist
            .iter()
            .find(|e| e.user == user && e.rule.as_deref().is_none_or(|r| r == a.rule_id))
            .map(|e| format!("allowlisted: {}", e.reason))
    }

    /// Judges one alert on earlier firings, then remembers it.
    fn routine(&mut self, a: &Alert) -> Option<String> {
        let user = a.user.as_deref()?;
        let date = a.first_seen.date_naive();
        let magnitude = a.evidence.aggregated_value;
        let key = format!("{user}\u{1f}{}", a.rule_id);
        let cfg = &self.config;
        let verdict = self.memory.firings.get(&key).and_then(|ring| {
            let prior: Vec<&Firing> = ring.iter().filter(|f| f.date < date).collect();
            let mut days: Vec<NaiveDate> = prior.iter().map(|f| f.date).collect();
            days.dedup();
            let first = *days.first()?;
            if days.len() < cfg.min_prior_days {
                return None;
            }
            // Active days between the first firing and today; without activity data, the
            // calendar days are the (stricter) denominator.
            let active = self.active.get(user).map_or_else(
                || (date - first).num_days().max(1) as usize,
                |v| v.iter().filter(|d| **d >= first && **d < date).count(),
            );
            let share = days.len() as f64 / active.max(days.len()).max(1) as f64;
            if share < cfg.min_share {
                return None;
            }
            let med = median(prior.iter().map(|f| f.magnitude))?;
            let similar = med <= 0.0
                || (magnitude <= med * cfg.magnitude_factor
                    && magnitude * cfg.magnitude_factor >= med);
            similar.then(|| {
                format!(
                    "routine for {user}: {} fired on {} of {} active days since {first} with similar magnitude (median {med:.0}, now {magnitude:.0})",
                    a.rule_id,
                    days.len(),
                    active.max(days.len())
                )
            })
        });
        if !self.memory.firings.contains_key(&key)
            && self.memory.firings.len() >= self.config.max_pairs
        {
            return verdict;
        }
        let cap = self.config.history_days;
        let ring = self
            .memory
            .firings
            .entry(key)
            .or_insert_with(|| Ring::new(cap));
        // A merged alert spans several days: each of them is a firing day.
        let last = a.last_seen.date_naive().max(date);
        let mut d = date;
        for _ in 0..cap {
            if ring.last().is_none_or(|f| f.date < d) {
                ring.push(Firing { date: d, magnitude });
            }
            match d.succ_opt() {
                Some(n) if n <= last => d = n,
                _ => break,
            }
        }
        verdict
    }
}

/// Splits rule alerts into kept and suppressed (with the reason), in `first_seen` order,
/// using only earlier alerts and activity; remembers every alert for later runs.
pub fn suppress_routine(
    mut alerts: Vec<Alert>,
    history: &mut RoutineHistory,
) -> (Vec<Alert>, Vec<(Alert, String)>) {
    alerts.sort_by(|a, b| {
        a.first_seen
            .cmp(&b.first_seen)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for a in alerts {
        let allowed = history.allowed(&a);
        // Allowlisted alerts are remembered too, so removing an entry later is informed.
        let routine = history.routine(&a);
        match allowed.or(routine) {
            Some(reason) => suppressed.push((a, reason)),
            None => kept.push(a),
        }
    }
    (kept, suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use confwatch_event::alert::{Evidence, Severity};

    fn alert(user: &str, rule: &str, day: u32, magnitude: f64) -> Alert {
        let t = DateTime::parse_from_rfc3339(&format!("2026-03-{day:02}T01:30:00+01:00")).unwrap();
        Alert {
            rule_id: rule.into(),
            rule_uuid: None,
            title: "t".into(),
            severity: Severity::High,
            user: Some(user.into()),
            source_ips: vec![],
            first_seen: t,
            last_seen: t,
            techniques: vec![],
            score: 70,
            summary: "s".into(),
            group: BTreeMap::new(),
            privileged: false,
            episode: None,
            evidence: Evidence {
                aggregated_value: magnitude,
                ..Evidence::default()
            },
        }
    }

    #[test]
    fn nightly_repeat_becomes_routine_after_two_days() {
        let alerts: Vec<Alert> = (2..=8)
            .rev()
            .map(|d| alert("svc-crawler", "bulk_read", d, 2000.0 + f64::from(d)))
            .collect();
        let mut h = RoutineHistory::default();
        let (kept, suppressed) = suppress_routine(alerts, &mut h);
        let kept_days: Vec<u32> = kept
            .iter()
            .map(|a| chrono::Datelike::day(&a.first_seen))
            .collect();
        assert_eq!(kept_days, vec![2, 3]);
        assert_eq!(suppressed.len(), 5);
        assert!(
            suppressed[0].1.contains("fired on 2 of 2"),
            "{}",
            suppressed[0].1
        );
    }

    #[test]
    fn different_magnitude_or_rare_firing_is_not_routine() {
        let mut h = RoutineHistory::default();
        let alerts = vec![
            alert("u", "r", 2, 100.0),
            alert("u", "r", 3, 110.0),
            // Ten times the usual: not routine.
            alert("u", "r", 4, 1000.0),
        ];
        let (kept, _) = suppress_routine(alerts, &mut h);
        assert_eq!(kept.len(), 3);
        // Memory carries over to a later run.
        let (kept, suppressed) = suppress_routine(vec![alert("u", "r", 5, 105.0)], &mut h);
        assert!(kept.is_empty());
        assert_eq!(suppressed.len(), 1);
    }

    #[test]
    fn sparse_firing_against_activity_is_not_routine() {
        let mut state = EngineState::default();
        let cfg = crate::BehaviourConfig::default();
        let mut b = crate::engine::UserBaseline::new(&cfg);
        for d in 2..=20 {
            b.days.push(crate::engine::DayFeatures {
                date: NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
                v: [0.0; crate::engine::feature::COUNT],
            });
        }
        state.users.insert("u".into(), b);
        let mut h = RoutineHistory::default().with_activity(&state);
        let alerts = vec![
            alert("u", "r", 2, 1.0),
            alert("u", "r", 9, 1.0),
            alert("u", "r", 16, 1.0),
        ];
        let (kept, _) = suppress_routine(alerts, &mut h);
        assert_eq!(kept.len(), 3, "2 of 14 active days is not routine");
    }

    #[test]
    fn merged_alert_counts_every_day_it_spans() {
        let mut long = alert("svc", "spaces", 2, 17.0);
        long.last_seen = DateTime::parse_from_rfc3339("2026-03-03T02:00:00+01:00").unwrap();
        let mut h = RoutineHistory::default();
        let (kept, suppressed) =
            suppress_routine(vec![long, alert("svc", "spaces", 4, 17.0)], &mut h);
        assert_eq!(kept.len(), 1);
        assert_eq!(suppressed.len(), 1);
    }

    #[test]
    fn allowlist_needs_reason_and_suppresses() {
        assert!(parse_allowlist("svc-x *\n").is_err());
        let list =
            parse_allowlist("# service accounts\nsvc-x * enterprise search, owner IT\n").unwrap();
        let mut h = RoutineHistory::new(RoutineConfig::default(), list, RoutineMemory::default());
        let (kept, suppressed) = suppress_routine(
            vec![alert("svc-x", "r", 2, 1.0), alert("bob", "r", 2, 1.0)],
            &mut h,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(suppressed[0].1, "allowlisted: enterprise search, owner IT");
    }
}
