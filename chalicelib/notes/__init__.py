"""Clinical notes: per visit, SOAP or free, from the clinic's templates; signing locks a
note, amendments follow it."""
