"""Treatment plans and relapse-prevention plans, their versions and reviews."""
