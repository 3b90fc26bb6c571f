"""Billing's writes: one module per part (coverage, diagnoses, authorizations, charges,
claims...). Each function is keyword-only, one transaction, actor and AuditContext in."""
