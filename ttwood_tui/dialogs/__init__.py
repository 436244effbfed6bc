"""Modal dialogs (``ModalScreen[T]`` closed with ``dismiss``)."""
