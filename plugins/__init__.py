"""Built-in plugins of govern, one module per concern.

They are registered by name (``govern.host.manager.DEFAULT_PLUGINS``) through the same path
as third-party entry points, and import only from ``govern``'s public modules.
"""
