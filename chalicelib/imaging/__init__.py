"""Clinical images and X-rays: uploads, renditions and DICOM.

This package is imported by the API, so it must stay lean: nothing here imports Pillow,
pydicom or numpy. The pure rendering pipeline lives in :mod:`chalicelib.imaging.render`
(shipped with its heavy dependencies in the imaging Lambda layer, used by the image worker
and by ``python -m chalicelib.imaging render FILE... --out DIR``). Its light-weight
contracts (options, results, :class:`~chalicelib.imaging.contracts.RenderError`) live in
:mod:`chalicelib.imaging.contracts`, which only needs the standard library.
"""
