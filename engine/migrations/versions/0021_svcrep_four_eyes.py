"""Issue 15: four eyes held by PostgreSQL itself, for every session, `psql` included.

Row-level security (`service.grants`) already lets a person's login write a decision only
in that person's name.  But whoever may UPDATE `approval` could set one to approved
without the decisions it needs, or lower `required`, and whoever may UPDATE
`dunning_state` could set `approved_target` with no approval at all.  Grants cannot say
"only with two decisions", so these triggers do, for every role (the service account too;
the engine only ever writes what they allow):

* an approval is filed pending; what it asks (invoice, target, rule, required, amount,
  requested on) never changes; a decided one stays decided;
* `status` becomes approved only when `required` different people have approved and
  nobody rejected; rejected only when somebody rejected;
* `dunning_state.approved_target` is set only to the target of an approved approval of
  that invoice — the one the invoice was waiting for, when it names one.

And `seal_lock()`: sealing the audit chain locks `event_seal` and `event` (`engine.audit`),
and PostgreSQL lets only a role with UPDATE or DELETE take those locks — which no person's
login has on the append-only log.  The function takes them with its owner's rights; a
lock belongs to the transaction, so the caller's run holds it until it commits.  Only the
operator group may call it (`service.grants`).

PostgreSQL only: on SQLite whoever may write the file may also drop a trigger, so the
file's permissions are the boundary there (`service.identity`).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE = "USING ERRCODE = 'insufficient_privilege', HINT = "
APPROVAL_GUARD = f"""
CREATE OR REPLACE FUNCTION approval_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE approvers integer; rejections integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' THEN
      RAISE EXCEPTION 'four eyes: an approval is filed pending, not %', NEW.status
        {REFUSE}'people decide it with mahnwerk approvals approve/reject';
    END IF;
    RETURN NEW;
  END IF;
  IF (NEW.invoice_id, NEW.target_state, NEW.rule, NEW.required, NEW.amount, NEW.requested_on)
     IS DISTINCT FROM
     (OLD.invoice_id, OLD.target_state, OLD.rule, OLD.required, OLD.amount, OLD.requested_on)
  THEN
    RAISE EXCEPTION 'four eyes: approval % asks what it asked when it was filed', OLD.id
      {REFUSE}'invoice, target, rule, required, amount and date never change';
  END IF;
  IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NEW;
  END IF;
  IF OLD.status <> 'pending' THEN
    RAISE EXCEPTION 'four eyes: approval % is already %', OLD.id, OLD.status
      {REFUSE}'a decided approval stays decided';
  END IF;
  SELECT count(DISTINCT lower(btrim(approver))) FILTER (WHERE decision = 'approve'),
         count(*) FILTER (WHERE decision = 'reject')
    INTO approvers, rejections
    FROM approval_decision WHERE approval_id = OLD.id;
  IF NEW.status = 'approved' AND (approvers < OLD.required OR rejections > 0) THEN
    RAISE EXCEPTION 'four eyes: approval % needs % different approvers; % approved, % rejected',
      OLD.id, OLD.required, approvers, rejections
      {REFUSE}'each approver records their own decision (mahnwerk approvals approve)';
  END IF;
  IF NEW.status = 'rejected' AND rejections = 0 THEN
    RAISE EXCEPTION 'four eyes: approval % has no rejection recorded', OLD.id
      {REFUSE}'record it with mahnwerk approvals reject';
  END IF;
  RETURN NEW;
END $$
"""
TARGET_GUARD = f"""
CREATE OR REPLACE FUNCTION approved_target_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.approved_target IS NULL
     OR (TG_OP = 'UPDATE' AND NEW.approved_target IS NOT DISTINCT FROM OLD.approved_target)
  THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM approval a
     WHERE a.invoice_id = NEW.invoice_id AND a.status = 'approved'
       AND a.target_state = NEW.approved_target
       AND (TG_OP = 'INSERT' OR OLD.pending_approval_id IS NULL
            OR a.id = OLD.pending_approval_id)
  ) THEN
    RAISE EXCEPTION 'four eyes: invoice % has no approved approval for %',
      NEW.invoice_id, NEW.approved_target
      {REFUSE}'a step that needs approval waits for mahnwerk approvals approve';
  END IF;
  RETURN NEW;
END $$
"""
SEAL_LOCK = """
CREATE OR REPLACE FUNCTION seal_lock() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
  LOCK TABLE event_seal IN EXCLUSIVE MODE;
  LOCK TABLE event IN SHARE MODE;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEAL_LOCK)
    op.execute("REVOKE EXECUTE ON FUNCTION seal_lock() FROM PUBLIC")
    op.execute(APPROVAL_GUARD)
    op.execute(
        "CREATE TRIGGER approval_four_eyes BEFORE INSERT OR UPDATE ON approval "
        "FOR EACH ROW EXECUTE FUNCTION approval_four_eyes()"
    )
    op.execute(TARGET_GUARD)
    op.execute(
        "CREATE TRIGGER approved_target_four_eyes BEFORE INSERT OR UPDATE ON dunning_state "
        "FOR EACH ROW EXECUTE FUNCTION approved_target_four_eyes()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS approved_target_four_eyes ON dunning_state")
    op.execute("DROP FUNCTION IF EXISTS approved_target_four_eyes()")
    op.execute("DROP TRIGGER IF EXISTS approval_four_eyes ON approval")
    op.execute("DROP FUNCTION IF EXISTS approval_four_eyes()")
    op.execute("DROP FUNCTION IF EXISTS seal_lock()")
