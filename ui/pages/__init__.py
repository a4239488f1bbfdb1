"""One module per page; each has the same face: `register(services)` adds its routes (ui.services.Services)."""
