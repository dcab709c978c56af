"""Drives: a personal drive per user and one per space, folders and files with versions,
trash, locks, metadata and shares (issue #18). Other modules use only ``service``'s face."""
