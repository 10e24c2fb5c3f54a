"""Online booking: the clinic's public booking page and widget, its settings, and the
invitations (signed links) that recalls and follow-ups send to a known patient."""
