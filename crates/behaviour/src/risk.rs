//! Risk per user: rule and anomaly alerts combined into one 0–100 score per user, decayed
//! over days, with the signals behind it.
//!
//! Alerts of one user that follow each other within `episode_gap_hours` form one
//! *episode*: an episode counts once (its strongest alerts, one per rule), so twenty alerts
//! of one incident do not outweigh two separate incidents. Episodes combine saturatingly,
//! `1 − Π(1 − pᵢ)`, so the score approaches but never exceeds 100; each episode's weight
//! halves every `half_life_days` before `now`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use confwatch_event::alert::Alert;
use serde::{Deserialize, Serialize};

use crate::stats::decay;

/// Tuning of the risk score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RiskConfig {
    pub half_life_days: f64,
    pub episode_gap_hours: i64,
    /// Signals listed per user.
    pub max_signals: usize,
}

impl Default for RiskConfig {
    fn default() -> RiskConfig {
        RiskConfig {
            half_life_days: 3.0,
            episode_gap_hours: 2,
            max_signals: 10,
        }
    }
}

/// One rule (or anomaly) within one episode, as it contributes to a user's risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub rule_id: String,
    /// `user#n`: the user's n-th episode (1-based, in time order).
    pub episode: String,
    pub first_seen: DateTime<FixedOffset>,
    pub last_seen: DateTime<FixedOffset>,
    /// Alerts of this rule merged into the signal.
    pub alerts: usize,
    /// The strongest alert's score (0–100), before decay.
    pub score: u8,
    /// What this signal adds today, after decay (0–100).
    pub weight: f64,
    pub summary: String,
}

/// One user's risk: the `user_risk` record of the JSONL output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRisk {
    /// Always `user_risk`: tells this record from alerts in a JSONL stream.
    pub record: String,
    pub user: String,
    /// 0–100, one decimal.
    pub score: f64,
    pub episodes: usize,
    pub alerts: usize,
    pub last_seen: DateTime<FixedOffset>,
    /// Strongest first.
    pub signals: Vec<Signal>,
}

/// Episodes of one user's alerts, sorted by `first_seen`: each alert joins the current
/// episode when it starts within `gap` of that episode's latest end. Returns index lists.
fn chain(sorted: &[&Alert], gap: Duration) -> Vec<Vec<usize>> {
    let mut episodes: Vec<Vec<usize>> = Vec::new();
    let mut end: Option<DateTime<FixedOffset>> = None;
    for (i, a) in sorted.iter().enumerate() {
        match (episodes.last_mut(), end) {
            (Some(ep), Some(e)) if a.first_seen <= e + gap => {
                ep.push(i);
                end = Some(e.max(a.last_seen));
            }
            _ => {
                episodes.push(vec![i]);
                end = Some(a.last_seen);
            }
        }
    }
    episodes
}

/// Sets every user alert's `episode` (`user#n`) with the same chaining the risk score uses,
/// so the alerts of one incident can be read together.
pub fn assign_episodes(alerts: &mut [Alert], cfg: &RiskConfig) {
    let gap = Duration::hours(cfg.episode_gap_hours);
    let mut by_user: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, a) in alerts.iter().enumerate() {
        if let Some(u) = &a.user {
            by_user.entry(u.clone()).or_default().push(i);
        }
    }
    for (user, mut idx) in by_user {
        idx.sort_by_key(|&i| alerts[i].first_seen);
        let episodes = {
            let sorted: Vec<&Alert> = idx.iter().map(|&i| &alerts[i]).collect();
            chain(&sorted, gap)
        };
        for (n, ep) in episodes.iter().enumerate() {
            for &k in ep {
                alerts[idx[k]].episode = Some(format!("{user}#{}", n + 1));
            }
        }
    }
}

/// [`score_with`] with the default tuning.
pub fn score(alerts: &[Alert], now: DateTime<FixedOffset>) -> Vec<UserRisk> {
    score_with(alerts, now, &RiskConfig::default())
}

/// Risk per user at `now` (usually the last event's time), riskiest first. Alerts without a
/// user (address-only alerts) are not scored here.
pub fn score_with(alerts: &[Alert], now: DateTime<FixedOffset>, cfg: &RiskConfig) -> Vec<UserRisk> {
    let mut by_user: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        if let Some(u) = a.user.as_deref() {
            by_user.entry(u).or_default().push(a);
        }
    }
    let gap = Duration::hours(cfg.episode_gap_hours);
    let mut out = Vec::new();
    for (user, mut list) in by_user {
        list.sort_by_key(|a| a.first_seen);
        let episodes: Vec<Vec<&Alert>> = chain(&list, gap)
            .into_iter()
            .map(|ep| ep.into_iter().map(|i| list[i]).collect())
            .collect();
        let mut signals = Vec::new();
        let mut keep = 1.0f64;
        for (n, ep) in episodes.iter().enumerate() {
            let id = format!("{user}#{}", n + 1);
            let mut rules: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
            for a in ep {
                rules.entry(a.rule_id.as_str()).or_default().push(a);
            }
            for (rule, als) in rules {
                let Some(best) = als.iter().max_by_key(|a| a.score) else {
                    continue;
                };
                let last = als
                    .iter()
                    .map(|a| a.last_seen)
                    .max()
                    .unwrap_or(best.last_seen);
                let first = als
                    .iter()
                    .map(|a| a.first_seen)
                    .min()
                    .unwrap_or(best.first_seen);
                let age_days = (now - last).num_seconds().max(0) as f64 / 86_400.0;
                let p =
                    f64::from(best.score.min(100)) / 100.0 * decay(age_days, cfg.half_life_days);
                keep *= 1.0 - p;
                signals.push(Signal {
                    rule_id: rule.to_string(),
                    episode: id.clone(),
                    first_seen: first,
                    last_seen: last,
                    alerts: als.len(),
                    score: best.score,
                    weight: (p * 1000.0).round() / 10.0,
                    summary: best.summary.clone(),
                });
            }
        }
        signals.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
        });
        signals.truncate(cfg.max_signals);
        let Some(last_seen) = list.iter().map(|a| a.last_seen).max() else {
            continue;
        };
        out.push(UserRisk {
            record: "user_risk".to_string(),
            user: user.to_string(),
            score: ((1.0 - keep) * 1000.0).round() / 10.0,
            episodes: episodes.len(),
            alerts: list.len(),
            last_seen,
            signals,
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.user.cmp(&b.user))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::alert::{Evidence, Severity};

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn alert(user: &str, rule: &str, at: &str, score: u8) -> Alert {
        Alert {
            rule_id: rule.into(),
            rule_uuid: None,
            title: "t".into(),
            severity: Severity::High,
            user: Some(user.into()),
            source_ips: vec![],
            first_seen: t(at),
            last_seen: t(at),
            techniques: vec![],
            score,
            summary: format!("{rule} by {user}"),
            group: BTreeMap::new(),
            privileged: false,
            episode: None,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn episodes_are_assigned_to_alerts() {
        let mut alerts = vec![
            alert("a", "r1", "2026-03-02T01:00:00Z", 50),
            alert("a", "r2", "2026-03-02T02:30:00Z", 50),
            alert("a", "r1", "2026-03-03T09:00:00Z", 50),
        ];
        assign_episodes(&mut alerts, &RiskConfig::default());
        let eps: Vec<_> = alerts
            .iter()
            .map(|a| a.episode.clone().unwrap_or_default())
            .collect();
        assert_eq!(eps, ["a#1", "a#1", "a#2"]);
    }

    #[test]
    fn repeats_in_one_episode_count_once_and_score_saturates() {
        let now = t("2026-03-10T12:00:00+01:00");
        let mut many: Vec<Alert> = (0..20)
            .map(|i| {
                alert(
                    "a",
                    "r1",
                    &format!("2026-03-10T09:{:02}:00+01:00", i * 2),
                    90,
                )
            })
            .collect();
        many.push(alert("b", "r1", "2026-03-10T09:00:00+01:00", 90));
        many.push(alert("b", "r2", "2026-03-10T10:30:00+01:00", 90));
        many.push(alert("b", "r3", "2026-03-10T11:30:00+01:00", 90));
        let r = score(&many, now);
        let a = r.iter().find(|x| x.user == "a").unwrap();
        let b = r.iter().find(|x| x.user == "b").unwrap();
        assert_eq!(a.episodes, 1);
        assert_eq!(a.signals.len(), 1);
        assert_eq!(a.signals[0].alerts, 20);
        assert_eq!(a.signals[0].episode, "a#1");
        // One episode of score 90, two and a half hours old: just under 90.
        assert!(a.score > 87.0 && a.score < 90.0, "{}", a.score);
        // Three rules: more risk, never above 100.
        assert!(b.score > a.score && b.score <= 100.0, "{}", b.score);
        assert_eq!(r[0].user, "b");
    }

    #[test]
    fn old_episodes_decay_and_gaps_split_episodes() {
        let now = t("2026-03-10T12:00:00+01:00");
        let r = score(
            &[
                alert("old", "r", "2026-03-04T12:00:00+01:00", 80),
                alert("new", "r", "2026-03-10T11:00:00+01:00", 50),
                alert("two", "r", "2026-03-10T06:00:00+01:00", 50),
                alert("two", "r", "2026-03-10T11:00:00+01:00", 50),
            ],
            now,
        );
        let get = |u: &str| r.iter().find(|x| x.user == u).unwrap();
        // Six days at a 3-day half-life: a quarter.
        assert!(
            (get("old").score - 20.0).abs() < 0.1,
            "{}",
            get("old").score
        );
        assert_eq!(get("two").episodes, 2);
        assert!(get("two").score > get("new").score);
        let j = serde_json::to_value(get("new")).unwrap();
        assert_eq!(j["record"], "user_risk");
        assert_eq!(j["user"], "new");
        assert!(j["signals"][0]["summary"].is_string());
    }
}
