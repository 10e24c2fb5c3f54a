"""Lab cases: prosthetic and orthodontic work sent to external labs, which update it
themselves through a signed link."""
