"""One module per page; each registers its route with register()."""
