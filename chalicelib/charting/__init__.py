"""The dental chart (odontogram): findings per tooth and surface, kept as history,
and the treatment plan they carry."""
