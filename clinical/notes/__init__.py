"""Progress notes: individual and group notes, session plans, signing, co-signing, addenda."""
