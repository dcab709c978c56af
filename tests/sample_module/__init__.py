"""A subscribable module used only by the tests of the module registry: it proves that a
module an organisation does not subscribe to is invisible and answers 404."""
