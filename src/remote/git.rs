//! Git sources through the `git` command, so the user's credential helpers, SSH agent and
//! `insteadOf` rules apply.
