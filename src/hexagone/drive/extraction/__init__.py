"""What the drive reads out of the files it stores, after each stored version: their text
for search (``drive_texts``) and a small image of them (the preview blob). See
:mod:`.jobs` for the job, :mod:`.formats` for the readers and :mod:`.sandbox` for the
process they run in. Kept free of imports: the sandbox starts by importing this package.
"""
