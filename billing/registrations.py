"""What billing adds to the platform's registries (architecture.md, "The registries")."""


def register():
    pass
