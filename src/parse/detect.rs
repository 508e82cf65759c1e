//! Recognises what a saved file holds and hands it to the right parser.
