"""What billing adds to the platform's registries (architecture.md, "The registries")."""


def register():
    from billing import claim_registrations

    claim_registrations.register()
