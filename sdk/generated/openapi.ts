/**
 * GENERATED from openapi.yaml by scripts/generate-types.mjs (openapi-typescript). Do not edit:
 * change openapi.yaml and run `npm run generate:types`; `npm run check:types` verifies it.
 */
/* eslint-disable */
export interface paths {
    "/v1/chat/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Chat completion (JSON, or SSE when `stream` is true) */
        post: operations["createChatCompletion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Legacy text completion (JSON, or SSE when `stream` is true) */
        post: operations["createCompletion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/responses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Responses API (JSON, or SSE events when `stream` is true); stateless */
        post: operations["createResponse"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/embeddings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Embeddings through the private protocol (the engine never sees the input)
         * @description One private embedding session per input: the forward pass over the input's tokens on shares, ending at the final hidden state; the mean over positions (after the final norm, γ applied by a diagonal product the engine evaluates without revealing γ) is opened to the gateway alone and L2-normalised. The engine and the dealer learn each input's token count, nothing else. Every mask profile has the pass (ring64: bit-exact with the fixed-point model; float profiles: statistical masks).
         */
        post: operations["createEmbedding"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Text or a conversation to token ids (vLLM's route), in the gateway only */
        post: operations["tokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/detokenize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Token ids to text (vLLM's route), in the gateway only */
        post: operations["detokenize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The model this gateway serves */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One model by id */
        get: operations["retrieveModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness (the process answers); never needs the API key */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness (the backend can serve requests now); never needs the API key */
        get: operations["readiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (text exposition format); needs the API key when one is set */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ErrorResponse: {
            error: {
                message: string;
                /** @description `invalid_request_error`, `rate_limit_error` or `server_error`. */
                type: string;
                /** @description The offending request field, e.g. `messages[1].content[0]`. */
                param: string | null;
                code: string | null;
            };
        };
        TextContentPart: {
            /** @enum {string} */
            type: "text";
            text: string;
            /** @description Accepted and ignored (prompt-cache hints of other servers). */
            cache_control?: {
                [key: string]: unknown;
            };
        };
        RefusalContentPart: {
            /** @enum {string} */
            type: "refusal";
            refusal: string;
        };
        /** @description A string, or an array of text parts (joined with "\n"). Any other part type (image_url, input_audio, file) is rejected with 400 naming `messages[i].content[j]`. */
        TextContent: string | components["schemas"]["TextContentPart"][];
        SystemMessage: {
            /** @enum {string} */
            role: "system";
            content: components["schemas"]["TextContent"];
            name?: string;
        };
        /** @description Treated as a system message by chat templates. */
        DeveloperMessage: {
            /** @enum {string} */
            role: "developer";
            content: components["schemas"]["TextContent"];
            name?: string;
        };
        UserMessage: {
            /** @enum {string} */
            role: "user";
            content: components["schemas"]["TextContent"];
            name?: string;
        };
        MessageToolCall: {
            id: string;
            /** @enum {string} */
            type: "function";
            function: {
                name: string;
                arguments: string;
                /** @description Accepted and ignored (the openai client's helpers add it to echoed history). */
                parsed_arguments?: unknown;
            };
        };
        /** @description Earlier assistant turns. `tool_calls` are passed to the chat template as history. Echoing a response's `message` back (with `annotations`, `tool_calls`, `refusal`, `audio` null, ...) is accepted. */
        AssistantMessage: {
            /** @enum {string} */
            role: "assistant";
            content?: string | (components["schemas"]["TextContentPart"] | components["schemas"]["RefusalContentPart"])[] | null;
            name?: string;
            refusal?: string | null;
            tool_calls?: components["schemas"]["MessageToolCall"][] | null;
            /** @description Legacy single function call (history only), rendered like one tool call. */
            function_call?: {
                name: string;
                arguments: string;
            } | null;
            /** @description Accepted and ignored (echoed responses carry it). */
            annotations?: unknown[] | null;
            /** @description Accepted and ignored (echoed responses carry it). */
            audio?: ({
                id: string;
            } & {
                [key: string]: unknown;
            }) | null;
            /** @description Reasoning text returned by some servers; passed to templates that read it (Qwen3), ignored by the others. */
            reasoning_content?: string | null;
            /** @description Accepted and ignored (the openai client's `.parse()` adds it to the message). */
            parsed?: unknown;
        };
        ToolMessage: {
            /** @enum {string} */
            role: "tool";
            content: components["schemas"]["TextContent"];
            tool_call_id: string;
        };
        ChatMessage: components["schemas"]["SystemMessage"] | components["schemas"]["DeveloperMessage"] | components["schemas"]["UserMessage"] | components["schemas"]["AssistantMessage"] | components["schemas"]["ToolMessage"];
        /** @description Up to 4 strings; generation ends before the first occurrence, which is never returned. */
        StopSequences: string | string[] | null;
        StreamOptions: {
            /** @description Send a usage chunk (`choices` empty) before `[DONE]`. */
            include_usage?: boolean;
            /** @description Accepted and ignored (no obfuscation padding is sent). */
            include_obfuscation?: boolean;
        } | null;
        JsonSchemaFormat: {
            name: string;
            description?: string;
            /** @description The supported subset (OpenAI strict mode's): type object/array/string/number/integer/boolean/null (and lists of types), properties, required, additionalProperties, items, minItems, maxItems, enum, const, anyOf/oneOf, $defs/definitions with local $ref (recursion allowed). Other keywords that restrict values (pattern, format, minLength, allOf, ...) are rejected with 400 naming the schema path. */
            schema?: {
                [key: string]: unknown;
            };
            /** @description Accepted; the schema is always enforced. */
            strict?: boolean | null;
        };
        /** @description `json_object`: the reply is a JSON object. `json_schema`: the reply is JSON valid for the schema. Both are enforced by constrained decoding on the user's side (a token mask added to the gateway's own share of the logits before the output permutation), so the engine learns nothing about the schema or the reply. Output is compact JSON. */
        ResponseFormat: {
            /** @enum {string} */
            type: "text";
        } | {
            /** @enum {string} */
            type: "json_object";
        } | {
            /** @enum {string} */
            type: "json_schema";
            json_schema: components["schemas"]["JsonSchemaFormat"];
        };
        FunctionDefinition: {
            name: string;
            description?: string;
            /** @description JSON Schema of the arguments (the `json_schema` subset); calls the gateway constrains follow it. */
            parameters?: {
                [key: string]: unknown;
            };
            /** @description Accepted; constrained arguments always follow the schema. */
            strict?: boolean | null;
        };
        ChatTool: {
            /** @enum {string} */
            type: "function";
            function: components["schemas"]["FunctionDefinition"];
        };
        /** @description `none`: no tools shown, no calls. `auto` (default with tools): the model may call; with a `<tool_call>` template the arguments are constrained once it starts a call. `required`: exactly one call to one of the tools, constrained. A named function: exactly one call to it, constrained. */
        ToolChoice: ("none" | "auto" | "required") | {
            /** @enum {string} */
            type: "function";
            function: {
                name: string;
            };
        };
        /** @description Token id (as a string) to a bias in [-100, 100] added to its logit. */
        LogitBias: {
            [key: string]: number;
        } | null;
        /** @description Unknown fields (OpenAI's `functions`, `function_call`, `audio`, `prediction`, `web_search_options`, `reasoning_effort`, ...) are rejected with 400 `unsupported_parameter` naming the field. Harmless fields are accepted and ignored, as each field's description says. */
        CreateChatCompletionRequest: {
            /** @description Must be the id served (see `GET /v1/models`); otherwise 404 `model_not_found`. */
            model: string;
            messages: components["schemas"]["ChatMessage"][];
            /** @description Deprecated by OpenAI in favour of `max_completion_tokens`, which wins when both are set. Default is the rest of the context window. */
            max_tokens?: number | null;
            max_completion_tokens?: number | null;
            /** @description Default 1. 0 is greedy decoding. */
            temperature?: number | null;
            /** @description Default 1. */
            top_p?: number | null;
            /** @description Extension. Keep only the k most likely tokens; 0 (default) disables. */
            top_k?: number | null;
            /** @description Extension. Drop tokens below min_p times the top token's probability; 0 (default) disables. */
            min_p?: number | null;
            /** @description Reproducible sampling. Choice i of n uses seed + i. */
            seed?: number | null;
            stop?: components["schemas"]["StopSequences"];
            /** @description Number of independent choices (default 1; upper bound configurable, default 8). */
            n?: number | null;
            presence_penalty?: number | null;
            frequency_penalty?: number | null;
            logit_bias?: components["schemas"]["LogitBias"];
            logprobs?: boolean | null;
            /** @description Needs `logprobs` true. */
            top_logprobs?: number | null;
            stream?: boolean | null;
            stream_options?: components["schemas"]["StreamOptions"];
            response_format?: components["schemas"]["ResponseFormat"];
            /** @description Rendered through the model's chat template (or, when the template knows no tools, a system message the gateway adds); calls are parsed into `tool_calls`. */
            tools?: components["schemas"]["ChatTool"][];
            tool_choice?: components["schemas"]["ToolChoice"];
            /** @description Accepted. Constrained calls (`required`, a named function) are one call per reply; with `auto` the model may write several. */
            parallel_tool_calls?: boolean;
            /** @description Extension (as vLLM). Extra variables for the chat template, e.g. `{"enable_thinking": false}`. */
            chat_template_kwargs?: {
                [key: string]: unknown;
            };
            /** @description Accepted and unused (nothing is logged or sent per user). */
            user?: string;
            /** @description Accepted and unused. */
            safety_identifier?: string;
            /**
             * @description Accepted when false or null; nothing is ever stored.
             * @enum {null|boolean}
             */
            store?: false | null;
            /** @description Accepted and unused. */
            metadata?: {
                [key: string]: string;
            } | null;
            /** @description Accepted and unused (one tier). */
            service_tier?: string | null;
            /** @description Accepted and unused. */
            prompt_cache_key?: string;
            /** @description Accepted when it asks for text only. */
            modalities?: "text"[] | null;
            /** @description Accepted and ignored. A multiplicative penalty depends on each logit's sign, which the user's side only sees permuted, so it cannot be applied privately; use `presence_penalty` / `frequency_penalty`. */
            repetition_penalty?: number | null;
        };
        /** @description A string, a list of strings, a token-id array, or a list of token-id arrays. Each prompt yields n choices. */
        CompletionPrompt: string | string[] | number[] | number[][];
        /** @description Unknown fields are rejected with 400 `unsupported_parameter`. */
        CreateCompletionRequest: {
            model: string;
            prompt: components["schemas"]["CompletionPrompt"];
            /** @description Default 16, as in OpenAI's legacy API. */
            max_tokens?: number | null;
            temperature?: number | null;
            top_p?: number | null;
            /** @description Extension (see chat). */
            top_k?: number | null;
            /** @description Extension (see chat). */
            min_p?: number | null;
            seed?: number | null;
            stop?: components["schemas"]["StopSequences"];
            n?: number | null;
            presence_penalty?: number | null;
            frequency_penalty?: number | null;
            logit_bias?: components["schemas"]["LogitBias"];
            /** @description Number of most likely alternatives to report per token. */
            logprobs?: number | null;
            stream?: boolean | null;
            stream_options?: components["schemas"]["StreamOptions"];
            /** @description Only false is supported (true is rejected with 400). */
            echo?: boolean | null;
            /** @description Only null is supported (a string is rejected with 400). */
            suffix?: string | null;
            /** @description Only 1 is supported (more is rejected with 400). */
            best_of?: number | null;
            /** @description Accepted and unused. */
            user?: string;
        };
        TokenizeRequest: {
            model: string;
            prompt: string;
            /** @description Add BOS when the model has one (default true). */
            add_special_tokens?: boolean;
        } | {
            model: string;
            messages: components["schemas"]["ChatMessage"][];
            tools?: components["schemas"]["ChatTool"][];
            chat_template_kwargs?: {
                [key: string]: unknown;
            };
        };
        /** @description A message (`role` user/system/developer/assistant; `content` a string or `input_text` / `output_text` / `refusal` parts), a `function_call` (`call_id`, `name`, `arguments`), a `function_call_output` (`call_id`, `output`), or a `reasoning` item (skipped). */
        ResponseInputItem: {
            [key: string]: unknown;
        };
        /** @description Unknown fields (and `previous_response_id`, `conversation`, `background`, `prompt`, non-function tools) are rejected with 400 `unsupported_parameter`. */
        CreateResponseRequest: {
            model: string;
            input: string | components["schemas"]["ResponseInputItem"][];
            /** @description Becomes the first system message. */
            instructions?: string | null;
            tools?: {
                /** @enum {string} */
                type: "function";
                name: string;
                description?: string | null;
                parameters?: {
                    [key: string]: unknown;
                } | null;
                strict?: boolean | null;
            }[];
            tool_choice?: ("none" | "auto" | "required") | {
                /** @enum {string} */
                type: "function";
                name: string;
            };
            parallel_tool_calls?: boolean | null;
            text?: {
                /** @description `{"type":"text"}`, `{"type":"json_object"}` or `{"type":"json_schema","name","schema","strict"?,"description"?}` (constrained as for chat `response_format`). */
                format?: {
                    /** @enum {string} */
                    type: "text" | "json_object" | "json_schema";
                } & {
                    [key: string]: unknown;
                };
                /** @description Accepted and ignored. */
                verbosity?: string | null;
            };
            max_output_tokens?: number | null;
            temperature?: number | null;
            top_p?: number | null;
            stream?: boolean | null;
            /**
             * @description Only false or null (nothing is stored).
             * @enum {null|boolean}
             */
            store?: false | null;
            metadata?: {
                [key: string]: string;
            } | null;
            user?: string;
            safety_identifier?: string;
            service_tier?: string | null;
            prompt_cache_key?: string;
            /** @enum {string|null} */
            truncation?: "disabled" | "auto" | null;
            include?: string[] | null;
            /** @description Accepted and ignored. */
            reasoning?: {
                [key: string]: unknown;
            } | null;
            stream_options?: {
                /** @description Accepted and ignored. */
                include_obfuscation?: boolean;
            } | null;
        };
        /** @description OpenAI's `response` object (echoing the request's settings); `store` is always false. */
        ResponseObject: {
            /** @description `resp_` followed by a random suffix. */
            id: string;
            /** @enum {string} */
            object: "response";
            created_at: number;
            /** @enum {string} */
            status: "completed" | "incomplete" | "in_progress";
            incomplete_details?: {
                /** @enum {string} */
                reason?: "max_output_tokens";
            } | null;
            model: string;
            output: ({
                /** @enum {string} */
                type: "message" | "function_call";
                id: string;
                status: string;
            } & {
                [key: string]: unknown;
            })[];
            usage: {
                input_tokens?: number;
                output_tokens?: number;
                total_tokens?: number;
            } | null;
        } & {
            [key: string]: unknown;
        };
        /** @description What the session(s) cost. All zero bytes for the plaintext backend. */
        PermllmStats: {
            /** @description One-way network flights per generated token on the decode critical path. */
            flights_per_token?: number;
            bytes_to_engine: number;
            bytes_from_engine: number;
            dealer_bytes: number;
            prefill_ms: number;
            decode_ms: number;
            /** @description The mask profile the session(s) ran under. */
            mask_profile?: string;
        };
        /** @description Unknown fields are rejected with 400 `unsupported_parameter`. */
        CreateEmbeddingRequest: {
            model: string;
            /** @description A string, a list of strings, a token-id array, or a list of token-id arrays (at most 2048 inputs, each non-empty and at most the context length). Strings get BOS. */
            input: string | string[] | number[] | number[][];
            /**
             * @description Default float; base64 is the little-endian float32 bytes.
             * @enum {string}
             */
            encoding_format?: "float" | "base64";
            /** @description Keep the first `dimensions` values and normalise again; more than the model's width is 400. */
            dimensions?: number;
            /** @description Accepted and unused. */
            user?: string;
        };
        CreateEmbeddingResponse: {
            /** @enum {string} */
            object: "list";
            data: components["schemas"]["Embedding"][];
            model: string;
            usage: components["schemas"]["EmbeddingUsage"];
        };
        Embedding: {
            /** @enum {string} */
            object: "embedding";
            index: number;
            /** @description Unit-length vector (float), or its float32 bytes in base64. */
            embedding: number[] | string;
        };
        EmbeddingUsage: {
            /** @description Tokens over all inputs. */
            prompt_tokens: number;
            total_tokens: number;
        };
        CompletionUsage: {
            /** @description Prompt tokens, counted once even when n > 1. */
            prompt_tokens: number;
            /** @description Generated tokens over all choices (a matched stop sequence's tokens included, EOS not). */
            completion_tokens: number;
            total_tokens: number;
        };
        TopLogprob: {
            token: string;
            logprob: number;
            bytes: number[] | null;
        };
        TokenLogprob: {
            token: string;
            logprob: number;
            bytes: number[] | null;
            top_logprobs: components["schemas"]["TopLogprob"][];
        };
        ChoiceLogprobs: {
            content: components["schemas"]["TokenLogprob"][] | null;
            refusal: components["schemas"]["TokenLogprob"][] | null;
        };
        /**
         * @description `stop`: end of sequence or a stop string; `length`: max tokens or the context window.
         * @enum {string}
         */
        FinishReason: "stop" | "length";
        /**
         * @description `stop`: end of turn or a stop string; `length`: max tokens or the context window; `tool_calls`: the reply is one or more tool calls.
         * @enum {string}
         */
        ChatFinishReason: "stop" | "length" | "tool_calls";
        ChatCompletionMessage: {
            /** @enum {string} */
            role: "assistant";
            /** @description Null when the reply is only tool calls. With `response_format` json_object / json_schema, JSON text valid for the schema whenever `finish_reason` is `stop`. */
            content: string | null;
            refusal: null;
            annotations?: Record<string, never>[];
            /** @description Present when the model called tools (parsed from the model's tool-call syntax). */
            tool_calls?: components["schemas"]["MessageToolCall"][];
        };
        ChatCompletionChoice: {
            index: number;
            message: components["schemas"]["ChatCompletionMessage"];
            logprobs: components["schemas"]["ChoiceLogprobs"] | null;
            finish_reason: components["schemas"]["ChatFinishReason"];
        };
        ChatCompletion: {
            /** @description `chatcmpl-` followed by a random suffix. */
            id: string;
            /** @enum {string} */
            object: "chat.completion";
            created: number;
            model: string;
            choices: components["schemas"]["ChatCompletionChoice"][];
            usage: components["schemas"]["CompletionUsage"];
        };
        ChatCompletionChunkDelta: {
            /**
             * @description Only in each choice's first chunk.
             * @enum {string}
             */
            role?: "assistant";
            content?: string;
            refusal?: null;
            /** @description As OpenAI streams them. A call's first delta has `index`, `id`, `type` and `function.name` with empty `arguments`; later deltas add `function.arguments` text. */
            tool_calls?: components["schemas"]["ToolCallDelta"][];
        };
        ToolCallDelta: {
            index: number;
            id?: string;
            /** @enum {string} */
            type?: "function";
            function?: {
                name?: string;
                arguments?: string;
            };
        };
        ChatCompletionChunkChoice: {
            index: number;
            delta: components["schemas"]["ChatCompletionChunkDelta"];
            logprobs: components["schemas"]["ChoiceLogprobs"] | null;
            finish_reason: components["schemas"]["ChatFinishReason"] | null;
        };
        ChatCompletionChunk: {
            /** @description The same on every chunk of a stream. */
            id: string;
            /** @enum {string} */
            object: "chat.completion.chunk";
            created: number;
            model: string;
            choices: components["schemas"]["ChatCompletionChunkChoice"][];
            /** @description With `include_usage`, null on every chunk but the last, which has `choices` empty. */
            usage?: components["schemas"]["CompletionUsage"] | null;
            /** @description Extension, only on the last JSON frame of the stream. */
            permllm?: components["schemas"]["PermllmStats"];
        };
        CompletionLogprobs: {
            tokens: string[];
            token_logprobs: number[];
            top_logprobs: {
                [key: string]: number;
            }[];
            text_offset: number[];
        };
        CompletionChoice: {
            /** @description prompt_index * n + choice number. */
            index: number;
            text: string;
            logprobs: components["schemas"]["CompletionLogprobs"] | null;
            /** @description Null on streamed chunks until the choice's last one. */
            finish_reason: components["schemas"]["FinishReason"] | null;
        };
        /** @description A `text_completion`, whole or as a stream chunk. */
        Completion: {
            /** @description `cmpl-` followed by a random suffix. */
            id: string;
            /** @enum {string} */
            object: "text_completion";
            created: number;
            model: string;
            choices: components["schemas"]["CompletionChoice"][];
            usage?: components["schemas"]["CompletionUsage"] | null;
            /** @description Extension, only on the last JSON frame of a stream. */
            permllm?: components["schemas"]["PermllmStats"];
        };
        Model: {
            id: string;
            /** @enum {string} */
            object: "model";
            created: number;
            owned_by: string;
            /** @description Extension. Maximum prompt plus completion tokens. */
            context_length?: number;
        };
        ModelList: {
            /** @enum {string} */
            object: "list";
            data: components["schemas"]["Model"][];
        };
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        Readiness: {
            ready: boolean;
            reasons: string[];
            /** @description The private backend's protection as this gateway decided it (absent for the plaintext backend). */
            protection?: {
                /** @description The mask profile the engine runs (accepted only at or above min_profile). */
                mask_profile: string;
                /** @description The weakest mask profile this gateway accepts (--min-profile). */
                min_profile: string;
            };
        };
    };
    responses: {
        /** @description Invalid request (malformed JSON, invalid or unsupported parameter, context length exceeded). */
        BadRequest: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description Missing or wrong API key (`code` `invalid_api_key`). */
        Unauthorized: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description The Host header is not an allowed name for this gateway (DNS-rebinding defence, `code` `invalid_host`). */
        Forbidden: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description Unknown route (`unknown_url`) or model (`model_not_found`). */
        NotFound: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description The route exists for other methods (listed in `Allow`). */
        MethodNotAllowed: {
            headers: {
                allow?: string;
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description Body larger than the configured limit (`request_too_large`). */
        PayloadTooLarge: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description Body not sent as `application/json` (`unsupported_media_type`). */
        UnsupportedMediaType: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description All generation slots busy and the queue full, or queued too long (`rate_limit_exceeded`). */
        TooManyRequests: {
            headers: {
                "retry-after": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description A gateway bug (`internal_error`). */
        InternalError: {
            headers: {
                "x-should-retry": components["headers"]["ShouldRetry"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description The engine or the protocol failed (`engine_error`). */
        EngineError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description The backend is not ready (`engine_unavailable`), or the gateway is shutting down (`server_shutting_down`). */
        Unavailable: {
            headers: {
                "retry-after": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
        /** @description No first token, or no next token, within the configured time (`timeout`). */
        Timeout: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorResponse"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description The request's id (echoed from the request's `x-request-id` when valid, else generated). */
        RequestId: string;
        /** @description Non-streaming only. JSON of `PermllmStats`, summed over the choices. */
        PermllmStats: string;
        /** @description Seconds to wait before retrying. */
        RetryAfter: number;
        /** @description `false` when replaying the same request cannot succeed. */
        ShouldRetry: "false";
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createChatCompletion: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateChatCompletionRequest"];
            };
        };
        responses: {
            /**
             * @description With `stream` false or absent: one `chat.completion` object, with the protocol's
             *     cost in the `x-permllm-stats` header. With `stream` true: `text/event-stream` of
             *     `data: <chat.completion.chunk JSON>` frames, `: keep-alive` comments while waiting,
             *     an optional usage chunk (`choices: []`) when `stream_options.include_usage` is true,
             *     then `data: [DONE]`. The last JSON frame carries the protocol's cost as `permllm`.
             *     A failure after the stream started is sent as one `data: {"error":{...}}` frame, and
             *     the stream ends without `[DONE]`.
             */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-permllm-stats": components["headers"]["PermllmStats"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChatCompletion"];
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["EngineError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Timeout"];
        };
    };
    createCompletion: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateCompletionRequest"];
            };
        };
        responses: {
            /**
             * @description With `stream` false or absent: one `text_completion` object (protocol cost in
             *     `x-permllm-stats`). With `stream` true: SSE frames of `text_completion` objects, the
             *     same framing as chat completions.
             */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-permllm-stats": components["headers"]["PermllmStats"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Completion"];
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["EngineError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Timeout"];
        };
    };
    createResponse: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateResponseRequest"];
            };
        };
        responses: {
            /**
             * @description With `stream` false or absent: one `response` object. With `stream` true:
             *     `text/event-stream` of Responses events (`response.created`, `response.in_progress`,
             *     `response.output_item.added`, `response.content_part.added`,
             *     `response.output_text.delta`, ..., `response.function_call_arguments.delta` /
             *     `.done` for calls, `response.output_item.done`, then `response.completed` or
             *     `response.incomplete`), each with `type` and `sequence_number`, then `data: [DONE]`.
             */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResponseObject"];
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["EngineError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Timeout"];
        };
    };
    createEmbedding: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateEmbeddingRequest"];
            };
        };
        responses: {
            /** @description One vector per input, in input order. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    "x-permllm-stats": components["headers"]["PermllmStats"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreateEmbeddingResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            500: components["responses"]["InternalError"];
            502: components["responses"]["EngineError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["Timeout"];
        };
    };
    tokenize: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TokenizeRequest"];
            };
        };
        responses: {
            /** @description The ids (a conversation rendered by the chat template with control-token text neutralised). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        count: number;
                        max_model_len: number;
                        tokens: number[];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
        };
    };
    detokenize: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    model: string;
                    tokens: number[];
                };
            };
        };
        responses: {
            /** @description The decoded text (control tokens skipped). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        prompt: string;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A list with the one model. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            405: components["responses"]["MethodNotAllowed"];
        };
    };
    retrieveModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                model: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model. */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            405: components["responses"]["MethodNotAllowed"];
        };
    };
    readiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            405: components["responses"]["MethodNotAllowed"];
            /** @description Not ready; `reasons` says why. */
            503: {
                headers: {
                    "retry-after": components["headers"]["RetryAfter"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /**
             * @description Metrics of this gateway: `permllm_http_requests_total{route,method,status}`,
             *     `permllm_time_to_first_token_seconds`, `permllm_inter_token_latency_seconds`,
             *     `permllm_tokens_total{kind}`, `permllm_protocol_bytes_total{direction}`,
             *     `permllm_protocol_flights_per_token`, `permllm_requests_in_flight`,
             *     `permllm_requests_queued`.
             */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            405: components["responses"]["MethodNotAllowed"];
        };
    };
}
