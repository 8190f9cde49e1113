"""The merchant portal at /portal/: server-rendered pages for merchant staff.

Views translate between HTML forms and the domain layer (customers.services,
customers.selectors, merchants.services); they hold no business rule.
"""
