//! The ownership and conflict table of docs/spec.md §7, as one pure decision per resource location.
//!
//! Ownership is derived from capm.lock: a location the lock lists with a digest matching
//! disk is bundle-owned and unmodified; listed with another digest it is bundle-owned and
//! modified by the user; not listed it is the user's. An entry capm adopted (the user had
//! written exactly what capm would) is shared and never deleted.

/// What is at the location now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDisk {
    Nothing,
    /// Something, with the digest of its content (by the same rule as rendered content).
    Present(String),
}

/// What capm.lock says about the location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Not listed: whatever is there is the user's.
    Nothing,
    /// Installed by `bundle`, with the digest capm wrote (or last proposed beside the
    /// user's edit); `shared` when it was adopted; `kept`: the user's version they kept as
    /// theirs (`capm keep`).
    Bundle {
        bundle: String,
        digest: String,
        shared: bool,
        kept: Option<String>,
    },
}

/// What a plan does at the location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Create,
    Update,
    Remove,
    Keep,
    Adopt,
    Preserve,
    Block,
}

/// The decision for one location, with the reason code a user sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: ActionKind,
    /// `conflict-user-owned`, `conflict-user-modified`, `conflict-other-bundle`,
    /// `kept-user-modified`, …
    pub reason: Option<&'static str>,
    /// Write capm's version beside the user's (`NAME.capm-new`, or a conflict record for
    /// config keys) instead of over it.
    pub propose_beside: bool,
}

/// Whether a decision's reason is a conflict the user can settle by keeping their own
/// version there (`--skip`, or "keep mine" at a prompt).
pub fn settleable(reason: Option<&str>) -> bool {
    matches!(
        reason,
        Some(
            "conflict-user-owned" | "conflict-other-bundle" | "conflict-user-modified" | "shadowed"
        )
    )
}

fn decision(action: ActionKind, reason: Option<&'static str>) -> Decision {
    Decision {
        action,
        reason,
        propose_beside: false,
    }
}

/// Install or update: `bundle` wants `desired` (a digest) at the location.
pub fn install(bundle: &str, desired: &str, disk: &OnDisk, lock: &Recorded) -> Decision {
    match (disk, lock) {
        (OnDisk::Nothing, _) => decision(ActionKind::Create, None),
        (OnDisk::Present(d), Recorded::Nothing) if d == desired => {
            decision(ActionKind::Adopt, Some("adopted-identical"))
        }
        (OnDisk::Present(_), Recorded::Nothing) => {
            decision(ActionKind::Block, Some("conflict-user-owned"))
        }
        (OnDisk::Present(d), Recorded::Bundle { bundle: owner, .. }) if owner != bundle => {
            if d == desired {
                decision(ActionKind::Keep, Some("shared-identical"))
            } else {
                decision(ActionKind::Block, Some("conflict-other-bundle"))
            }
        }
        (OnDisk::Present(d), Recorded::Bundle { digest, .. }) if d == digest => {
            if d == desired {
                decision(ActionKind::Keep, None)
            } else {
                decision(ActionKind::Update, None)
            }
        }
        (OnDisk::Present(d), Recorded::Bundle { .. }) if d == desired => {
            decision(ActionKind::Keep, None)
        }
        // The user changed what capm installed, and the bundle has nothing new there: a
        // state, not a conflict; nothing is written.
        (OnDisk::Present(d), Recorded::Bundle { digest, kept, .. }) if desired == digest => {
            decision(ActionKind::Keep, Some(edit_reason(d, kept.as_deref())))
        }
        // The bundle's content changed under the user's edit: theirs stays, ours is
        // proposed beside it.
        (OnDisk::Present(_), Recorded::Bundle { .. }) => Decision {
            action: ActionKind::Keep,
            reason: Some("conflict-user-modified"),
            propose_beside: true,
        },
    }
}

/// A user's edit the bundle has nothing new for: kept as theirs (`capm keep`), or not yet.
fn edit_reason(disk: &str, kept: Option<&str>) -> &'static str {
    if kept == Some(disk) {
        "kept-by-user"
    } else {
        "user-modified"
    }
}

/// Whether a decision leaves a user's edit of a bundle's resource in place: what
/// `capm keep` and `capm restore` apply to.
pub fn is_user_edit(reason: Option<&str>) -> bool {
    matches!(
        reason,
        Some("user-modified" | "kept-by-user" | "conflict-user-modified")
    )
}

/// Uninstall: `bundle` is being removed; `preserved` when its `[uninstall] preserves`
/// names the resource; `purge` to delete files the user modified too.
pub fn uninstall(
    bundle: &str,
    disk: &OnDisk,
    lock: &Recorded,
    preserved: bool,
    purge: bool,
) -> Decision {
    match lock {
        Recorded::Nothing => decision(ActionKind::Keep, disk_reason(disk, Some("user-owned"))),
        Recorded::Bundle { bundle: owner, .. } if owner != bundle => {
            decision(ActionKind::Keep, Some("owned-by-other-bundle"))
        }
        Recorded::Bundle { shared: true, .. } => {
            decision(ActionKind::Preserve, Some("shared-with-user"))
        }
        Recorded::Bundle { .. } if preserved => {
            decision(ActionKind::Preserve, Some("preserved-by-bundle"))
        }
        // The user kept their version as theirs: it is handed over, even under --purge.
        Recorded::Bundle { kept: Some(k), .. } if *disk == OnDisk::Present(k.clone()) => {
            decision(ActionKind::Preserve, Some("kept-by-user"))
        }
        Recorded::Bundle { digest, .. } => match disk {
            // Already gone: only the lock entry goes.
            OnDisk::Nothing => decision(ActionKind::Remove, None),
            OnDisk::Present(d) if d == digest => decision(ActionKind::Remove, None),
            OnDisk::Present(_) if purge => {
                decision(ActionKind::Remove, Some("purged-user-modified"))
            }
            OnDisk::Present(_) => decision(ActionKind::Keep, Some("kept-user-modified")),
        },
    }
}

fn disk_reason(disk: &OnDisk, reason: Option<&'static str>) -> Option<&'static str> {
    match disk {
        OnDisk::Nothing => None,
        OnDisk::Present(_) => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: &str) -> OnDisk {
        OnDisk::Present(d.to_string())
    }

    fn owned(bundle: &str, digest: &str) -> Recorded {
        Recorded::Bundle {
            bundle: bundle.into(),
            digest: digest.into(),
            shared: false,
            kept: None,
        }
    }

    /// A situation, and the install and uninstall decisions (action, reason) expected.
    type Row = (
        &'static str,
        OnDisk,
        Recorded,
        ActionKind,
        Option<&'static str>,
        ActionKind,
        Option<&'static str>,
    );

    /// docs/spec.md §7.1, row by row, for install/update and uninstall.
    #[test]
    fn the_conflict_table() {
        use ActionKind::*;
        let rows: [Row; 7] = [
            (
                "nothing there",
                OnDisk::Nothing,
                Recorded::Nothing,
                Create,
                None,
                Keep,
                None,
            ),
            (
                "user-owned, different",
                at("user"),
                Recorded::Nothing,
                Block,
                Some("conflict-user-owned"),
                Keep,
                Some("user-owned"),
            ),
            (
                "user-owned, identical",
                at("new"),
                Recorded::Nothing,
                Adopt,
                Some("adopted-identical"),
                Keep,
                Some("user-owned"),
            ),
            (
                "bundle-owned, unmodified, new content",
                at("old"),
                owned("me", "old"),
                Update,
                None,
                Remove,
                None,
            ),
            (
                "bundle-owned, unmodified, same content",
                at("new"),
                owned("me", "new"),
                Keep,
                None,
                Remove,
                None,
            ),
            (
                "bundle-owned, modified by the user",
                at("edited"),
                owned("me", "old"),
                Keep,
                Some("conflict-user-modified"),
                Keep,
                Some("kept-user-modified"),
            ),
            (
                "owned by another bundle",
                at("theirs"),
                owned("other", "theirs"),
                Block,
                Some("conflict-other-bundle"),
                Keep,
                Some("owned-by-other-bundle"),
            ),
        ];
        for (name, disk, lock, i_action, i_reason, u_action, u_reason) in rows {
            let d = install("me", "new", &disk, &lock);
            assert_eq!(
                (d.action, d.reason),
                (i_action, i_reason),
                "install: {name}"
            );
            let u = uninstall("me", &disk, &lock, false, false);
            assert_eq!(
                (u.action, u.reason),
                (u_action, u_reason),
                "uninstall: {name}"
            );
        }
        assert!(install("me", "new", &at("edited"), &owned("me", "old")).propose_beside);
        // An edit the bundle has nothing new for is a state: nothing is proposed.
        let same = install("me", "old", &at("edited"), &owned("me", "old"));
        assert_eq!(
            (same.action, same.reason, same.propose_beside),
            (Keep, Some("user-modified"), false)
        );
        let kept = Recorded::Bundle {
            bundle: "me".into(),
            digest: "old".into(),
            shared: false,
            kept: Some("edited".into()),
        };
        let d = install("me", "old", &at("edited"), &kept);
        assert_eq!((d.action, d.reason), (Keep, Some("kept-by-user")));
        // …until the bundle changes: then capm's version is proposed beside the kept one.
        assert!(install("me", "new", &at("edited"), &kept).propose_beside);
        // Kept as the user's: handed over on removal, even with --purge.
        let u = uninstall("me", &at("edited"), &kept, false, true);
        assert_eq!((u.action, u.reason), (Preserve, Some("kept-by-user")));
        // Edited again after keeping: an edit like any other.
        let u = uninstall("me", &at("again"), &kept, false, false);
        assert_eq!(u.reason, Some("kept-user-modified"));
        // Another bundle's byte-identical entry is shared, not a conflict.
        assert_eq!(
            install("me", "new", &at("new"), &owned("other", "new")).action,
            Keep
        );
        // Preserved resources and adopted entries are handed to the user, never deleted.
        assert_eq!(
            uninstall("me", &at("old"), &owned("me", "old"), true, false).action,
            Preserve
        );
        let shared = Recorded::Bundle {
            bundle: "me".into(),
            digest: "x".into(),
            shared: true,
            kept: None,
        };
        assert_eq!(
            uninstall("me", &at("x"), &shared, false, true).action,
            Preserve
        );
        // --purge removes what the user modified; a file already gone just leaves the lock.
        assert_eq!(
            uninstall("me", &at("edited"), &owned("me", "old"), false, true).action,
            Remove
        );
        assert_eq!(
            uninstall("me", &OnDisk::Nothing, &owned("me", "old"), false, false).action,
            Remove
        );
    }
}
